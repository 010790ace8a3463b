"""Reads of the telemetry app: readings, chart series and window statistics."""
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Avg, Count, QuerySet, Sum
from django.utils import timezone

from devices.models import Device
from devices.selectors import device_id_page
from common.keyset import PAGE_MAX_LIMIT, Page, page_of
from telemetry.bucketing import BucketStart, bucket_seconds_for
from telemetry.models import DeviceMinute, FleetMinute, Telemetry
from telemetry.rollups import MINUTE, minute_of


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
                       now: datetime | None = None, **filters) -> Page:
    """Per-device averages over `window` of the devices of device_page(`limit`, `after`, `filters`).

    The page is the device list's page (same filters, order and cursor), so one request
    covers exactly the devices of one page of the list; a device without readings in the
    window has no row. Windows within ROLLUP_RETENTION_MINUTES come from the minute
    rollups: the whole minutes (by ts) that overlap the window. Longer ones read the
    readings, walking the (device, ts) index once per device.
    """
    now = now or timezone.now()
    devices = device_id_page(limit=limit, after=after, **filters)
    if window <= timedelta(minutes=settings.ROLLUP_RETENTION_MINUTES):
        rows = _rolled_window_stats(since=minute_of(now - window), device_ids=devices.rows)
    else:
        rows = _raw_window_stats(since=now - window, device_ids=devices.rows)
    return Page(rows=rows, next_after=devices.next_after)


def _rolled_window_stats(*, since: datetime, device_ids: list[str]) -> list[dict]:
    groups = (
        DeviceMinute.objects.filter(device_id__in=device_ids, minute__gte=since)
        .values("device_id")
        .annotate(points=Sum("count"), t_count=Sum("temperature_count"), t_sum=Sum("temperature_sum"),
                  h_count=Sum("humidity_count"), h_sum=Sum("humidity_sum"))
        .order_by("device_id")
    )
    return [
        {
            "device_id": row["device_id"],
            "avg_temperature": row["t_sum"] / row["t_count"] if row["t_count"] else None,
            "avg_humidity": row["h_sum"] / row["h_count"] if row["h_count"] else None,
            "data_points": row["points"],
        }
        for row in groups
    ]


def _raw_window_stats(*, since: datetime, device_ids: list[str]) -> list[dict]:
    return list(
        Telemetry.objects.filter(device_id__in=device_ids, ts__gte=since)
        .values("device_id")
        .annotate(avg_temperature=Avg("temperature"), avg_humidity=Avg("humidity"), data_points=Count("id"))
        .order_by("device_id")
    )


INGEST_RATE_MINUTES = 60


def ingest_rate(*, now: datetime | None = None, minutes: int = INGEST_RATE_MINUTES) -> list[dict]:
    """Readings stored in each of the last `minutes` minutes (the current one last), 0 where none."""
    last = minute_of(now or timezone.now())
    first = last - MINUTE * (minutes - 1)
    stored = dict(FleetMinute.objects.filter(minute__gte=first, minute__lte=last).values_list("minute", "stored"))
    stored = {minute_of(minute): count for minute, count in stored.items()}
    return [{"minute": first + MINUTE * n, "stored": stored.get(first + MINUTE * n, 0)} for n in range(minutes)]
