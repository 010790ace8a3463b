"""Reads of the devices app: devices with their latest reading."""
from django.db.models import OuterRef, QuerySet, Subquery

from devices.models import Device
from telemetry.models import Telemetry


def _with_latest_reading_id(devices: QuerySet[Device]) -> QuerySet[Device]:
    newest = Telemetry.objects.filter(device_id=OuterRef("pk")).order_by("-ts").values("id")[:1]
    return devices.annotate(latest_reading_id=Subquery(newest))


def _attach_latest(devices: list[Device]) -> list[Device]:
    """Set `device.latest` to its newest reading (or None) with one query for all devices."""
    ids = [device.latest_reading_id for device in devices if device.latest_reading_id is not None]
    readings = Telemetry.objects.only("id", "ts", "temperature", "humidity").in_bulk(ids)
    for device in devices:
        device.latest = readings.get(device.latest_reading_id)
    return devices


def device_list(*, status: str | None = None) -> list[Device]:
    """All devices (optionally of one status) with `.latest`, in two queries."""
    devices = Device.objects.all()
    if status is not None:
        devices = devices.filter(status=status)
    return _attach_latest(list(_with_latest_reading_id(devices)))


def device_get(*, device_id: str) -> Device | None:
    """One device with `.latest`, or None when it does not exist."""
    device = _with_latest_reading_id(Device.objects.filter(pk=device_id)).first()
    return _attach_latest([device])[0] if device else None


def device_exists(*, device_id: str) -> bool:
    return Device.objects.filter(pk=device_id).exists()
