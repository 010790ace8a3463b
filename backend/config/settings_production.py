"""Production settings: `DJANGO_SETTINGS_MODULE=config.settings_production` (docs/security.md).

Everything in config.settings, made fit for the internet. It refuses to start with
DEBUG on, with the development secret key (or any short one) or without
DJANGO_ALLOWED_HOSTS, and turns on secure cookies, HSTS and the HTTPS redirect.
`python manage.py check --deploy` passes with it and no warnings.
"""
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str
from config.settings import *  # noqa: F403
from config.settings import INSECURE_DEFAULT_SECRET_KEY

MIN_SECRET_KEY_LENGTH = 50
SECRET_KEY_HELP = (
    "generate one with: python -c 'from django.core.management.utils import get_random_secret_key; "
    "print(get_random_secret_key())'"
)

# The values that decide whether this is safe are read here, not taken from the base
# module, whose development defaults must not leak through.
DEBUG = env_bool("DJANGO_DEBUG", False)
if DEBUG:
    raise ImproperlyConfigured(
        "DJANGO_DEBUG is on, but production settings never run with DEBUG: its error pages show "
        "settings and code to anyone. Unset DJANGO_DEBUG or set it to false."
    )

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
if (
    SECRET_KEY == INSECURE_DEFAULT_SECRET_KEY
    or SECRET_KEY.startswith("django-insecure-")
    or len(SECRET_KEY) < MIN_SECRET_KEY_LENGTH
    or len(set(SECRET_KEY)) < 5
):
    raise ImproperlyConfigured(
        f"DJANGO_SECRET_KEY must be set to {MIN_SECRET_KEY_LENGTH} or more random characters, "
        f"not left empty or at the development default; {SECRET_KEY_HELP}"
    )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS must list the host names the site is served under, e.g. example.com"
    )

# The dashboard is served from the site itself: no other origin by default.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", CORS_ALLOWED_ORIGINS)

# HTTPS. Behind a proxy that terminates TLS, DJANGO_BEHIND_TLS_PROXY=true makes Django
# believe the proxy's X-Forwarded-Proto (the proxy must set it and strip it from
# clients); without it every request looks like plain HTTP and the redirect loops.
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
if not SECURE_SSL_REDIRECT:
    # Turned off on purpose: the proxy in front redirects HTTP to HTTPS itself.
    SILENCED_SYSTEM_CHECKS = ["security.W008"]
# Load balancers probe the health endpoint, and Prometheus scrapes /metrics, over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^api/health/$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
# The dashboard reads the CSRF cookie to send it back in X-CSRFToken; it is not a secret
# on its own (an attacker's page can neither read it nor set the header).
CSRF_COOKIE_HTTPONLY = False

# Static files come from `manage.py collectstatic` (STATIC_ROOT), not from the apps.
WHITENOISE_USE_FINDERS = False
