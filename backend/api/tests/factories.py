"""Rows for API tests, written straight through the ORM."""
from datetime import datetime, timedelta

from django.utils import timezone

from alerts.models import Alert
from alerts.rules import SEVERITY
from devices.models import Device
from telemetry.models import Telemetry


def make_device(device_id: str = "device-001", **fields) -> Device:
    fields.setdefault("last_seen", timezone.now())
    return Device.objects.create(device_id=device_id, **fields)


def make_readings(device: Device, count: int, *, start: datetime | None = None, step=timedelta(seconds=1),
                  temperature=25.0, humidity=50.0) -> list[Telemetry]:
    start = start or timezone.now() - step * count
    return Telemetry.objects.bulk_create(
        Telemetry(device=device, ts=start + step * i, temperature=temperature + i % 5, humidity=humidity,
                  received_at=timezone.now())
        for i in range(count)
    )


def make_alert(device: Device, alert_type: str, *, ago: timedelta = timedelta(0), payload=None,
               status: str = Alert.Status.ACTIVE) -> Alert:
    ts = timezone.now() - ago
    return Alert.objects.create(
        device=device, alert_type=alert_type, ts=ts, payload=payload or {}, severity=SEVERITY[alert_type],
        status=status, cleared_at=ts if status == Alert.Status.CLEARED else None,
    )
