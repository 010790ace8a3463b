"""Rows for the alerts tests, written straight through the ORM."""
from datetime import timedelta

from django.utils import timezone

from devices.models import Device
from telemetry.models import Telemetry


def make_device(device_id: str, *, seconds_ago: float = 0.0, status: str = Device.Status.ONLINE) -> Device:
    return Device.objects.create(
        device_id=device_id, status=status, last_seen=timezone.now() - timedelta(seconds=seconds_ago)
    )


def make_readings(device_id: str, temperatures, *, first_id: int | None = None) -> list[Telemetry]:
    """One reading a second per temperature, oldest first; explicit ids when `first_id` is given."""
    now = timezone.now()
    start = now - timedelta(seconds=len(temperatures))
    rows = [
        Telemetry(
            id=None if first_id is None else first_id + i,
            device_id=device_id,
            ts=start + timedelta(seconds=i),
            temperature=temperature,
            received_at=now,
        )
        for i, temperature in enumerate(temperatures)
    ]
    return Telemetry.objects.bulk_create(rows)


def make_battery_readings(device_id: str, batteries) -> list[Telemetry]:
    """One reading a second per battery level (no temperature), oldest first."""
    now = timezone.now()
    start = now - timedelta(seconds=len(batteries))
    return Telemetry.objects.bulk_create(
        Telemetry(device_id=device_id, ts=start + timedelta(seconds=i), humidity=None, battery=battery,
                  received_at=now)
        for i, battery in enumerate(batteries)
    )
