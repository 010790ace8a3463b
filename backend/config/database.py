"""The web's statement timeout on PostgreSQL; the ingest and the worker run without one."""
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def limit_web_statements() -> None:
    """Make PostgreSQL cancel any statement of this process after WEB_STATEMENT_TIMEOUT_SECONDS."""
    timeout = settings.WEB_STATEMENT_TIMEOUT_SECONDS
    if timeout >= settings.GUNICORN_TIMEOUT_SECONDS:
        raise ImproperlyConfigured(
            f"WEB_STATEMENT_TIMEOUT_SECONDS={timeout:g} must be below GUNICORN_TIMEOUT="
            f"{settings.GUNICORN_TIMEOUT_SECONDS}: a query must end before gunicorn kills its worker, "
            "or the database goes on running it for nobody"
        )
    for database in settings.DATABASES.values():
        if database["ENGINE"] != "django.db.backends.postgresql":
            continue
        options = database.setdefault("OPTIONS", {})
        # Sent with the connection's start-up packet: every connection of the process has
        # it from its first statement, reconnections included, at no extra round trip.
        limit = f"-c statement_timeout={round(timeout * 1000)}"
        options["options"] = f"{options['options']} {limit}" if options.get("options") else limit
