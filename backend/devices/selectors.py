"""Reads of the devices app: devices with their latest reading."""
from django.db.models import OuterRef, QuerySet, Subquery

from devices.models import Device
from telemetry.models import Telemetry

DEVICE_FIELDS = ("device_id", "status", "last_seen", "name", "device_type", "location", "metadata")
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


def _active_devices() -> QuerySet[Device]:
    return Device.objects.filter(decommissioned_at__isnull=True)


def device_list(*, status: str | None = None, device_type: str | None = None,
                location: str | None = None) -> list[dict]:
    """Every device not decommissioned, filtered by exact status, type and location when given, each with `latest`."""
    filters = {"status": status, "device_type": device_type, "location": location}
    devices = _active_devices().filter(**{name: value for name, value in filters.items() if value is not None})
    return _rows_with_latest(devices)


def device_get(*, device_id: str) -> dict | None:
    """One device with `latest`, or None when it does not exist or is decommissioned."""
    rows = _rows_with_latest(_active_devices().filter(pk=device_id))
    return rows[0] if rows else None


def device_for_key(*, device_id: str) -> Device | None:
    """The device an HTTP reading names, decommissioned or not, with only what authentication needs."""
    return Device.objects.filter(pk=device_id).only("device_id", "key_hash", "decommissioned_at").first()


def device_id_holding_key(*, key_hash: str) -> str | None:
    """The id of the device whose key has this hash, or None."""
    return Device.objects.filter(key_hash=key_hash).exclude(key_hash="").values_list("pk", flat=True).first()


def device_exists(*, device_id: str) -> bool:
    """Whether readings of this id can exist: decommissioned devices keep their history readable."""
    return Device.objects.filter(pk=device_id).exists()
