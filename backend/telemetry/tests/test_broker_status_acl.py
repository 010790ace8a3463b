"""The production broker's ACLs for the status topic: a device says `online`/`offline` for itself only."""
import pytest

from devices.models import Device
from devtools.waiting import wait_until
from telemetry.tests.test_broker_auth import DEVICE_X, DEVICE_Y, TS, connect, ingest, ingest_env, reading, secured

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["connect", "ingest", "ingest_env", "secured"]  # fixtures used by name below


def test_a_device_publishes_its_own_status_and_not_another_devices(ingest, connect):
    Device.objects.create(device_id=DEVICE_Y, last_seen=None)
    device = connect(DEVICE_X)
    assert device.publish(f"devices/{DEVICE_Y}/status", "offline")  # acknowledged and dropped
    device.publish(f"devices/{DEVICE_X}/status", "online")
    device.publish(f"devices/{DEVICE_X}/telemetry", reading(DEVICE_X, TS))

    # One publisher's messages arrive in order: once the reading is stored, both statuses would be too.
    wait_until(lambda: Device.objects.filter(pk=DEVICE_X, last_seen__isnull=False).exists())
    assert Device.objects.get(pk=DEVICE_X).link_state == Device.LinkState.ONLINE
    assert Device.objects.get(pk=DEVICE_Y).link_state == Device.LinkState.UNKNOWN
