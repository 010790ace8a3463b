"""Settings for processes that run for days rather than serve one request."""
from django.conf import settings


def stop_query_logging() -> None:
    """Turn off DEBUG's per-connection log of every SQL statement.

    Django clears it at the end of each request; a process that never ends a request
    (ingest, worker) would keep up to 9,000 statements, and spend a tenth of its CPU
    formatting them.
    """
    settings.DEBUG = False
