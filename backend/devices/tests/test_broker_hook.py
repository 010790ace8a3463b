"""The broker hook: told of every key registered, rotated or removed, and only once the change has committed."""
import pytest
from django.db import transaction
from django.test import override_settings

from devices.broker_accounts import NoBrokerAccounts, broker_accounts
from devices.keys import key_hash
from devices.models import Device
from devices.services import DeviceIdTaken, device_decommission, device_register, device_rotate_key

pytestmark = pytest.mark.django_db(transaction=True)

calls: list[tuple] = []


class RecordingBrokerAccounts:
    def upsert(self, device_id: str, key: str) -> None:
        calls.append(("upsert", device_id, key))

    def remove(self, device_id: str) -> None:
        calls.append(("remove", device_id))


@pytest.fixture
def recorded():
    calls.clear()
    with override_settings(DEVICE_BROKER_ACCOUNTS=f"{__name__}.RecordingBrokerAccounts"):
        yield calls
    calls.clear()


def test_the_default_hook_does_nothing():
    assert isinstance(broker_accounts(), NoBrokerAccounts)


def test_register_rotate_and_decommission_tell_the_broker_after_commit(recorded):
    key = device_register(device_id="hooked-1").api_key
    rotated = device_rotate_key(device_id="hooked-1")
    device_decommission(device_id="hooked-1")
    assert recorded == [("upsert", "hooked-1", key), ("upsert", "hooked-1", rotated), ("remove", "hooked-1")]
    assert Device.objects.get(pk="hooked-1").key_hash == key_hash(rotated)


def test_a_change_that_rolls_back_tells_the_broker_nothing(recorded):
    with pytest.raises(RuntimeError), transaction.atomic():
        device_register(device_id="hooked-2")
        device_rotate_key(device_id="hooked-2")
        raise RuntimeError("rolled back")
    device_register(device_id="hooked-3")
    with pytest.raises(DeviceIdTaken):
        device_register(device_id="hooked-3")
    assert [call[:2] for call in recorded] == [("upsert", "hooked-3")]
    assert not Device.objects.filter(pk="hooked-2").exists()
