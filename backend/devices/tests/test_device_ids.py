"""The device-id rule holds in the registry too: a bad id fails model validation and the admin's add form."""
import pytest
from django.core.exceptions import ValidationError

import readings  # the simulator's: it runs without Django, so it keeps a copy of the rule
from devices.ids import DEVICE_ID_PATTERN, is_device_id
from devices.models import Device

BAD_IDS = ["-leading-dash", "has space", "slash/in/it", "plus+sign", "a" * 65, "dévice", ""]
GOOD_IDS = ["d", "device-001", "Sensor_7.b", "A" * 64]


@pytest.mark.parametrize("device_id", GOOD_IDS)
def test_good_ids_pass_the_rule(device_id):
    assert is_device_id(device_id)


@pytest.mark.parametrize("device_id", BAD_IDS)
def test_bad_ids_fail_the_rule(device_id):
    assert not is_device_id(device_id)


@pytest.mark.django_db
@pytest.mark.parametrize("device_id", ["-leading-dash", "has space", "slash/in/it", "dévice"])
def test_full_clean_refuses_a_bad_device_id(device_id):
    with pytest.raises(ValidationError) as refused:
        Device(device_id=device_id).full_clean()
    assert "device_id" in refused.value.message_dict


@pytest.mark.django_db
def test_full_clean_accepts_a_good_device_id():
    Device(device_id="device-001").full_clean()


@pytest.mark.django_db
def test_the_admin_refuses_to_add_a_device_with_a_bad_id(admin_client):
    response = admin_client.post("/admin/devices/device/add/", {"device_id": "bad id", "status": "ONLINE",
                                                                "metadata": "{}"})
    assert response.status_code == 200  # the form again, with its errors
    assert "device_id" in response.context["adminform"].form.errors
    assert not Device.objects.filter(pk="bad id").exists()


@pytest.mark.django_db
def test_the_admin_adds_a_device_with_a_good_id(admin_client):
    response = admin_client.post("/admin/devices/device/add/", {"device_id": "device-042", "status": "ONLINE",
                                                                "metadata": "{}"})
    assert response.status_code == 302
    assert Device.objects.filter(pk="device-042").exists()


def test_the_simulators_copy_of_the_rule_is_the_rule():
    assert readings.DEVICE_ID_PATTERN.pattern == DEVICE_ID_PATTERN.pattern
