"""Reads of the telemetry app: readings, chart series and window statistics."""
from datetime import UTC, datetime, timedelta

from django.db.models import Avg, Count, QuerySet
from django.utils import timezone

from devices.models import Device
from common.keyset import PAGE_MAX_LIMIT, Page, page_of
from telemetry.bucketing import BucketStart, bucket_seconds_for
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


def telemetry_series(*, device_id: str, window: timedelta, points: int, now: datetime | None = None) -> dict:
    """A device's readings over `window`, averaged into at most `points` time buckets."""
    size = bucket_seconds_for(window, points)
    since = (now or timezone.now()) - window
    buckets = (
        Telemetry.objects.filter(device_id=device_id, ts__gte=since)
        .annotate(bucket=BucketStart("ts", size))
        .values("bucket")
        .annotate(temperature=Avg("temperature"), humidity=Avg("humidity"), count=Count("id"))
        .order_by("bucket")
    )
    return {
        "bucket_seconds": size,
        "points": [
            {
                "ts": datetime.fromtimestamp(row["bucket"], tz=UTC),
                "temperature": row["temperature"],
                "humidity": row["humidity"],
                "count": row["count"],
            }
            for row in buckets
        ],
    }


def fleet_window_stats(*, window: timedelta, limit: int = PAGE_MAX_LIMIT, after: str | None = None,
                       now: datetime | None = None) -> Page:
    """Per-device averages over `window`, for up to `limit` devices with readings in it after `after`.

    Filtering on the device ids lets the database walk the (device, ts) index once per
    device instead of scanning every reading.
    """
    since = (now or timezone.now()) - window
    devices = Device.objects.values("pk") if after is None else Device.objects.filter(pk__gt=after).values("pk")
    rows = list(
        Telemetry.objects.filter(device_id__in=devices, ts__gte=since)
        .values("device_id")
        .annotate(avg_temperature=Avg("temperature"), avg_humidity=Avg("humidity"), data_points=Count("id"))
        .order_by("device_id")[: limit + 1]
    )
    return page_of(rows, limit=limit, key=lambda row: row["device_id"])
