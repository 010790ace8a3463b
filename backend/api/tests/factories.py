"""Rows for API tests, written straight through the ORM (with the device's newest reading, as the ingest keeps it)."""
from datetime import datetime, timedelta

from django.utils import timezone

from alerts.models import Alert
from alerts.rules import SEVERITY
from devices.models import Device
from telemetry.models import Telemetry
from telemetry.payload import Reading
from telemetry.rollups import RolledReading, rollups_add
from telemetry.services import devices_heard


def make_device(device_id: str = "device-001", **fields) -> Device:
    fields.setdefault("last_seen", timezone.now())
    return Device.objects.create(device_id=device_id, **fields)


def make_readings(device: Device, count: int, *, start: datetime | None = None, step=timedelta(seconds=1),
                  temperature=25.0, humidity=50.0) -> list[Telemetry]:
    start = start or timezone.now() - step * count
    rows = Telemetry.objects.bulk_create(
        Telemetry(device=device, ts=start + step * i, temperature=temperature + i % 5, humidity=humidity,
                  received_at=timezone.now())
        for i in range(count)
    )
    # What the ingest does in the same transaction: the device keeps its newest reading.
    devices_heard(readings=[Reading(row.device_id, row.ts, row.temperature, row.humidity, row.battery, None)
                                     for row in rows])
    # And what the alert worker's readings step adds.
    rollups_add(readings=[RolledReading(row.device_id, row.ts, row.temperature, row.humidity, row.received_at)
                          for row in rows])
    return rows


def make_alert(device: Device, alert_type: str, *, ago: timedelta = timedelta(0), payload=None,
               status: str = Alert.Status.ACTIVE) -> Alert:
    ts = timezone.now() - ago
    return Alert.objects.create(
        device=device, alert_type=alert_type, ts=ts, payload=payload or {}, severity=SEVERITY[alert_type],
        status=status, cleared_at=ts if status == Alert.Status.CLEARED else None,
    )
