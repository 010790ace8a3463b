"""A device's history is what the apps that keep its rows registered: a purge deletes all of it, and only that."""
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert, DeviceAlertState
from devtools.factories import make_alert, make_device, make_readings
from devices.history import device_history
from devices.tasks import device_history_purge
from telemetry.models import RejectedMessage, Telemetry

pytestmark = pytest.mark.django_db


def rejection(device_id: str, digest: str, received_at) -> RejectedMessage:
    return RejectedMessage.objects.create(topic=f"devices/{device_id}/telemetry", device_id=device_id, payload="{}",
                                          reason="decommissioned", digest=digest, received_at=received_at)


def test_the_history_holds_readings_rejections_alerts_and_the_alert_state_in_that_order():
    assert [rows.model for rows in device_history(device_id="gone-1", cutoff=timezone.now())] == [
        Telemetry, RejectedMessage, Alert, DeviceAlertState,
    ]


def test_a_purge_deletes_a_decommissioned_devices_rejections_and_alert_state_and_keeps_what_came_after():
    device, other = make_device("gone-1", decommissioned_at=timezone.now()), make_device("kept-1")
    make_readings(device, 3)
    rejection("gone-1", "a" * 64, timezone.now())
    make_alert(device, Alert.Type.OFFLINE, payload={"last_seen": "2026-01-01T00:00:00Z"})
    DeviceAlertState.objects.create(device=device)
    DeviceAlertState.objects.create(device=other)
    cutoff = timezone.now()
    rejection("gone-1", "b" * 64, cutoff + timedelta(seconds=1))

    assert device_history_purge(device_id="gone-1", cutoff=cutoff) == (6, True)
    assert list(RejectedMessage.objects.values_list("digest", flat=True)) == ["b" * 64]
    assert not Telemetry.objects.exists() and not Alert.objects.exists()
    assert list(DeviceAlertState.objects.values_list("device_id", flat=True)) == ["kept-1"]


def test_a_purge_keeps_the_alert_state_of_a_device_registered_again():
    device = make_device("back-1")
    DeviceAlertState.objects.create(device=device)
    assert device_history_purge(device_id="back-1", cutoff=timezone.now()) == (0, True)
    assert DeviceAlertState.objects.filter(device_id="back-1").exists()
