"""Per-minute rollups of the readings: each device's counts and sums, and the fleet's stored count.

The alert worker's readings step adds every reading it takes past its watermark, in
the same transaction as the watermark's compare-and-set, so each reading is added
exactly once however many workers run, and the ingest does no extra work.
"""
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection

from telemetry.models import DeviceMinute, FleetMinute

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class RolledReading:
    device_id: str
    ts: datetime
    temperature: float | None
    humidity: float | None
    received_at: datetime


def minute_of(at: datetime) -> datetime:
    """The start of the UTC minute holding `at`."""
    return at.astimezone(UTC).replace(second=0, microsecond=0)


def device_minutes(readings: Iterable[RolledReading]) -> dict[tuple[str, datetime], list]:
    """[count, temperature count, temperature sum, humidity count, humidity sum] per (device, minute of ts)."""
    sums: dict[tuple[str, datetime], list] = defaultdict(lambda: [0, 0, 0.0, 0, 0.0])
    for reading in readings:
        row = sums[(reading.device_id, minute_of(reading.ts))]
        row[0] += 1
        if reading.temperature is not None:
            row[1] += 1
            row[2] += reading.temperature
        if reading.humidity is not None:
            row[3] += 1
            row[4] += reading.humidity
    return sums


def fleet_minutes(readings: Iterable[RolledReading]) -> dict[datetime, int]:
    """Readings per minute of receive time."""
    counts: dict[datetime, int] = defaultdict(int)
    for reading in readings:
        counts[minute_of(reading.received_at)] += 1
    return counts


def rollups_add(*, readings: list[RolledReading]) -> None:
    """Add stored readings to their minutes; call inside the transaction that marks them as taken."""
    if not readings:
        return
    adapt = connection.ops.adapt_datetimefield_value
    devices = connection.ops.quote_name(DeviceMinute._meta.db_table)
    fleet = connection.ops.quote_name(FleetMinute._meta.db_table)
    sums = ("count", "temperature_count", "temperature_sum", "humidity_count", "humidity_sum")
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {devices} AS m (device_id, minute, {', '.join(sums)}) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            f" ON CONFLICT (device_id, minute) DO UPDATE SET "
            + ", ".join(f"{name} = m.{name} + excluded.{name}" for name in sums),
            [(device_id, adapt(minute), *row) for (device_id, minute), row in sorted(device_minutes(readings).items())],
        )
        cursor.executemany(
            f"INSERT INTO {fleet} AS f (minute, stored) VALUES (%s, %s)"
            " ON CONFLICT (minute) DO UPDATE SET stored = f.stored + excluded.stored",
            [(adapt(minute), count) for minute, count in sorted(fleet_minutes(readings).items())],
        )
