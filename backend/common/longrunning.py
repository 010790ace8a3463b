"""Settings for processes that run for days rather than serve one request."""
from django.conf import settings


def turn_off_debug() -> None:
    """Set settings.DEBUG to False for the rest of this process, which ends its SQL query log.

    Django clears that log at the end of each request; a process that never ends a request
    (ingest, worker) would keep up to 9,000 statements, and spend a tenth of its CPU
    formatting them. Everything else that reads settings.DEBUG in this process sees False too.
    """
    settings.DEBUG = False

