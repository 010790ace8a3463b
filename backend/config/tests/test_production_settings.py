"""config.settings_production: refuses unsafe starts, and `check --deploy` passes with it."""
import os
import runpy
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

from devtools.processes import BACKEND_DIR

PRODUCTION = "config.settings_production"


def production_env(**overrides: str) -> dict[str, str]:
    """The environment of a production start: a random key, one host, nothing else of Django's."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "CORS_", "CSRF_"))}
    env.update(DJANGO_SETTINGS_MODULE=PRODUCTION, DJANGO_SECRET_KEY=get_random_secret_key(),
               DJANGO_ALLOWED_HOSTS="example.com")
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=BACKEND_DIR, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def load(monkeypatch):
    """Evaluate the production settings module under a given environment, in this process."""

    def load_with(**overrides: str) -> dict:
        for key in list(os.environ):
            if key.startswith(("DJANGO_", "CORS_", "CSRF_")):
                monkeypatch.delenv(key)
        for key, value in production_env(**overrides).items():
            monkeypatch.setenv(key, value)
        return runpy.run_module(PRODUCTION)

    return load_with


def test_check_deploy_passes_with_no_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_a_production_process_refuses_to_start_with_debug_on():
    result = manage("check", env=production_env(DJANGO_DEBUG="true"))
    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_DEBUG is on" in result.stderr


@pytest.mark.parametrize(
    "key", ["", "dev-insecure-secret-key-change-me", "too-short", "django-insecure-" + "x1y2z3" * 10, "a" * 60]
)
def test_the_development_a_short_or_a_weak_secret_key_is_refused(load, key):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY must be set to 50 or more random characters"):
        load(DJANGO_SECRET_KEY=key)


def test_allowed_hosts_must_be_given(load):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_ALLOWED_HOSTS"):
        load(DJANGO_ALLOWED_HOSTS="")


def test_cookies_hsts_and_the_https_redirect_are_on_by_default(load):
    settings = load()
    assert settings["DEBUG"] is False
    assert settings["SESSION_COOKIE_SECURE"] and settings["CSRF_COOKIE_SECURE"] and settings["SESSION_COOKIE_HTTPONLY"]
    assert settings["SECURE_SSL_REDIRECT"] and settings["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert settings["SECURE_REDIRECT_EXEMPT"] == [r"^api/health/$", r"^metrics$"]  # probes and Prometheus
    assert "SECURE_PROXY_SSL_HEADER" not in settings  # X-Forwarded-Proto is not trusted unless asked
    assert settings["CORS_ALLOWED_ORIGINS"] == [] and settings["CSRF_TRUSTED_ORIGINS"] == []


def test_behind_a_tls_proxy_its_forwarded_proto_is_trusted(load):
    settings = load(DJANGO_BEHIND_TLS_PROXY="true")
    assert settings["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


def test_the_redirect_can_be_left_to_the_proxy(load):
    settings = load(DJANGO_SECURE_SSL_REDIRECT="false")
    assert settings["SECURE_SSL_REDIRECT"] is False
    assert settings["SILENCED_SYSTEM_CHECKS"] == ["security.W008"]
