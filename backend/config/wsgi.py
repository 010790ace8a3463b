"""WSGI entry point of the web (gunicorn config.wsgi; runserver loads it too). Only the web loads it."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from config.database import limit_web_statements  # noqa: E402 - needs DJANGO_SETTINGS_MODULE

limit_web_statements()
application = get_wsgi_application()
