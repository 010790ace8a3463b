"""Writes of the devices app: register, update, rotate a key, decommission, purge history.

The broker hook (devices.broker_accounts) is called only after the change has committed,
so the broker never holds an account the registry rolled back.
"""
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from devices.broker_accounts import broker_accounts
from devices.keys import key_generate, key_hash, key_prefix
from devices.models import Device
from devices.tasks import purge_device_history

EDITABLE_FIELDS = ("name", "device_type", "location", "metadata")


class DeviceIdTaken(Exception):
    """A device with this id is registered already."""


class DeviceNotFound(Exception):
    """No registered (non-decommissioned) device has this id."""


@dataclass(frozen=True, slots=True)
class Registered:
    device: Device
    # Shown to the caller once; only its hash is stored.
    api_key: str


def _active(device_id: str) -> Device:
    try:
        return Device.objects.select_for_update().get(device_id=device_id, decommissioned_at__isnull=True)
    except Device.DoesNotExist:
        raise DeviceNotFound(device_id) from None


def _give_key(device: Device) -> str:
    key = key_generate()
    device.key_hash, device.key_prefix = key_hash(key), key_prefix(key)
    return key


def device_register(*, device_id: str, **fields) -> Registered:
    """Register a device with a new API key.

    A device the ingest created from its readings (no key yet) is adopted; a
    decommissioned one is registered again and keeps whatever history is left of it
    (DELETE ?purge=true first for a clean start). An active registered id raises DeviceIdTaken.
    """
    with transaction.atomic():
        device = Device.objects.select_for_update().filter(device_id=device_id).first()
        if device is None:
            device = Device(device_id=device_id)
        elif device.decommissioned_at is not None:
            # Not judged for OFFLINE until it sends under its new registration.
            device.decommissioned_at, device.status, device.last_seen = None, Device.Status.ONLINE, None
        elif device.key_hash:
            raise DeviceIdTaken(device_id)
        for name in EDITABLE_FIELDS:
            if name in fields:
                setattr(device, name, fields[name])
        key = _give_key(device)
        try:
            with transaction.atomic():
                device.save()
        except IntegrityError:  # a concurrent registration of the same new id won
            raise DeviceIdTaken(device_id) from None
        transaction.on_commit(lambda: broker_accounts().upsert(device_id, key))
    return Registered(device=device, api_key=key)


def device_update(*, device_id: str, **fields) -> Device:
    """Change a device's name, type, location or metadata."""
    with transaction.atomic():
        device = _active(device_id)
        for name in EDITABLE_FIELDS:
            if name in fields:
                setattr(device, name, fields[name])
        changed = [name for name in EDITABLE_FIELDS if name in fields]
        if changed:
            device.save(update_fields=changed)
    return device


def device_rotate_key(*, device_id: str) -> str:
    """Give a device a new API key; the old one stops working when this commits."""
    with transaction.atomic():
        device = _active(device_id)
        key = _give_key(device)
        device.save(update_fields=["key_hash", "key_prefix"])
        transaction.on_commit(lambda: broker_accounts().upsert(device_id, key))
    return key


def device_decommission(*, device_id: str, purge: bool = False) -> datetime:
    """Hide a device and refuse its readings from now on; with `purge`, queue the deletion of its history.

    Its key hash is kept, so the device's own key still tells it why its readings are
    refused. Its status becomes OFFLINE without an alert, so the worker never judges it.
    """
    with transaction.atomic():
        device = _active(device_id)
        now = timezone.now()
        device.decommissioned_at, device.status = now, Device.Status.OFFLINE
        device.save(update_fields=["decommissioned_at", "status"])
        transaction.on_commit(lambda: broker_accounts().remove(device_id))
        if purge:
            purge_device_history(device_id, now.isoformat())
    return now
