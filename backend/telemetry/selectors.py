"""Reads of the telemetry app: readings of one device, and their statistics."""
from datetime import datetime, timedelta

from django.db.models import Avg, Count, QuerySet
from django.utils import timezone

from telemetry.models import Telemetry


def telemetry_list(
    *, device_id: str, limit: int, since: datetime | None = None, until: datetime | None = None
) -> QuerySet[Telemetry]:
    """A device's readings, newest first (served by the unique (device, ts) index)."""
    readings = Telemetry.objects.filter(device_id=device_id)
    if since is not None:
        readings = readings.filter(ts__gte=since)
    if until is not None:
        readings = readings.filter(ts__lte=until)
    return readings.order_by("-ts").only("id", "device_id", "ts", "temperature", "humidity")[:limit]


def telemetry_window_stats(*, device_id: str, window: timedelta, now: datetime | None = None) -> dict:
    """Average temperature and humidity of a device's readings over the last `window`."""
    since = (now or timezone.now()) - window
    return Telemetry.objects.filter(device_id=device_id, ts__gte=since).aggregate(
        avg_temperature=Avg("temperature"),
        avg_humidity=Avg("humidity"),
        data_points=Count("id"),
    )
