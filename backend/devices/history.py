"""A device's history, as the apps that keep it name it: what a purge (devices.tasks) deletes.

The registry holds none of these rows and imports no app above it: each app that keeps
rows of a device registers them from its AppConfig.ready, in INSTALLED_APPS order.
"""
from collections.abc import Callable
from datetime import datetime

from django.db.models import QuerySet

# Rows of one device received up to `cutoff`: (device_id, cutoff) -> queryset.
HistoryRows = Callable[[str, datetime], QuerySet]

_history: dict[str, HistoryRows] = {}


def device_history_register(name: str, rows: HistoryRows) -> None:
    """Count `rows` in every device's history from now on (a name registered again is replaced)."""
    _history[name] = rows


def device_history(*, device_id: str, cutoff: datetime) -> list[QuerySet]:
    """The querysets of the device's history up to `cutoff`, in the order they were registered."""
    return [rows(device_id, cutoff) for rows in _history.values()]
