"""Rows for the tests, written straight through the ORM."""
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.utils import timezone
from rest_framework.authtoken.models import Token

from alerts.models import Alert
from alerts.rules import SEVERITY
from devices.models import Device
from notifications.models import EmailSubscription, WebhookSubscription
from telemetry.models import Telemetry
from telemetry.payload import Reading
from telemetry.rollups import RolledReading, rollups_add
from telemetry.services import devices_heard

WEBHOOK_SECRET = "whsec_test_0123456789abcdef"
# A payload of the shape the worker writes, for an alert made without one.
EXAMPLE_PAYLOADS = {"HIGH_TEMP": {"temperature": 31.5, "threshold": 30.0}}


def make_device(device_id: str = "device-001", *, seconds_ago: float = 0.0, **fields) -> Device:
    """A device last seen `seconds_ago` (unless `last_seen` is given)."""
    fields.setdefault("last_seen", timezone.now() - timedelta(seconds=seconds_ago))
    return Device.objects.create(device_id=device_id, **fields)


def make_readings(device: Device | str, count: int, *, start: datetime | None = None, step=timedelta(seconds=1),
                  temperature=25.0, humidity=50.0) -> list[Telemetry]:
    """`count` readings `step` apart from `start` (default: ending now), temperatures cycling over five values.

    The device keeps its newest reading, as the ingest does in the same transaction, and the
    minute rollups get them, as the alert worker's readings step adds them.
    """
    start = start or timezone.now() - step * count
    rows = Telemetry.objects.bulk_create(
        Telemetry(device_id=_pk(device), ts=start + step * i, temperature=temperature + i % 5, humidity=humidity,
                  received_at=timezone.now())
        for i in range(count)
    )
    devices_heard(readings=[Reading(row.device_id, row.ts, row.temperature, row.humidity, row.battery, None)
                            for row in rows])
    rollups_add(readings=[RolledReading(row.device_id, row.ts, row.temperature, row.humidity, row.received_at)
                          for row in rows])
    return rows


def make_temperature_readings(device: Device | str, temperatures: Sequence[float], *,
                              first_id: int | None = None) -> list[Telemetry]:
    """One reading a second per temperature (no humidity), oldest first; explicit ids when `first_id` is given."""
    now = timezone.now()
    start = now - timedelta(seconds=len(temperatures))
    return Telemetry.objects.bulk_create(
        Telemetry(id=None if first_id is None else first_id + i, device_id=_pk(device), ts=start + timedelta(seconds=i),
                  temperature=temperature, received_at=now)
        for i, temperature in enumerate(temperatures)
    )


def make_battery_readings(device: Device | str, batteries: Sequence[float]) -> list[Telemetry]:
    """One reading a second per battery level (no temperature), oldest first."""
    now = timezone.now()
    start = now - timedelta(seconds=len(batteries))
    return Telemetry.objects.bulk_create(
        Telemetry(device_id=_pk(device), ts=start + timedelta(seconds=i), humidity=None, battery=battery,
                  received_at=now)
        for i, battery in enumerate(batteries)
    )


def make_alert(device: Device | str = "device-001", alert_type: str = "HIGH_TEMP", *, ago=timedelta(0),
               payload: dict | None = None, status: str = Alert.Status.ACTIVE) -> Alert:
    """An alert raised `ago`; a device given by id is created if it does not exist."""
    if isinstance(device, str):
        device, _ = Device.objects.get_or_create(device_id=device, defaults={"last_seen": timezone.now()})
    ts = timezone.now() - ago
    return Alert.objects.create(
        device=device, alert_type=alert_type, ts=ts,
        payload=payload if payload is not None else dict(EXAMPLE_PAYLOADS.get(alert_type, {})),
        severity=SEVERITY[alert_type], status=status, cleared_at=ts if status == Alert.Status.CLEARED else None,
    )


def make_webhook(url: str = "http://127.0.0.1:9/hook", **fields) -> WebhookSubscription:
    fields.setdefault("name", "ops")
    fields.setdefault("secret", WEBHOOK_SECRET)
    return WebhookSubscription.objects.create(url=url, **fields)


def make_email(recipients=("ops@example.com",), **fields) -> EmailSubscription:
    fields.setdefault("name", "on-call")
    return EmailSubscription.objects.create(recipients=list(recipients), **fields)


def make_token(user) -> str:
    """The API token of `user` (made on first use), as `manage.py drf_create_token` gives it."""
    return Token.objects.get_or_create(user=user)[0].key


def _pk(device: Device | str) -> str:
    return device if isinstance(device, str) else device.pk
