"""Reads of the devices app: devices with their latest reading."""
from django.db.models import OuterRef, QuerySet, Subquery

from devices.models import Device
from telemetry.models import Telemetry

DEVICE_FIELDS = ("device_id", "status", "last_seen", "name", "device_type", "location")
LATEST_FIELDS = ("ts", "temperature", "humidity")


def _rows_with_latest(devices: QuerySet[Device]) -> list[dict]:
    """Device rows with `latest` (the reading with the newest ts, or None), in one query.

    Each latest field is a correlated subquery served by the (device, ts) index; plain
    rows instead of model instances keep a 1,000-device list cheap to build.
    """
    newest = Telemetry.objects.filter(device_id=OuterRef("pk")).order_by("-ts")
    annotations = {f"latest_{name}": Subquery(newest.values(name)[:1]) for name in LATEST_FIELDS}
    rows = list(devices.annotate(**annotations).values(*DEVICE_FIELDS, *annotations))
    for row in rows:
        latest = {name: row.pop(f"latest_{name}") for name in LATEST_FIELDS}
        row["latest"] = latest if latest["ts"] is not None else None
    return rows


def device_list(*, status: str | None = None) -> list[dict]:
    """All devices (optionally of one status), each with `latest`."""
    devices = Device.objects.all()
    if status is not None:
        devices = devices.filter(status=status)
    return _rows_with_latest(devices)


def device_get(*, device_id: str) -> dict | None:
    """One device with `latest`, or None when it does not exist."""
    rows = _rows_with_latest(Device.objects.filter(pk=device_id))
    return rows[0] if rows else None


def device_exists(*, device_id: str) -> bool:
    return Device.objects.filter(pk=device_id).exists()
