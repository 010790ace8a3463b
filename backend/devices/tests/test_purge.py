"""DELETE ?purge=true: the worker deletes the device's history in small batches, and only that."""
from datetime import timedelta

import pytest
from background_task.models import Task
from django.contrib.auth import get_user_model
from django.utils import timezone

from alerts.models import Alert
from devtools.factories import make_alert, make_device, make_readings
from devices.models import Device
from devices.tasks import TASK_NAME, device_history_purge
from devtools.waiting import wait_until
from telemetry.models import Telemetry

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_purge_deletes_in_batches_within_its_budget_and_keeps_other_devices():
    device, other = make_device("gone-1"), make_device("kept-1")
    make_readings(device, 250)
    make_readings(other, 10)
    make_alert(device, Alert.Type.HIGH_TEMP, payload={"temperature": 31.0, "threshold": 30.0})
    cutoff = timezone.now()

    assert device_history_purge(device_id="gone-1", cutoff=cutoff, batch_rows=100, budget_seconds=0) == (100, False)
    assert Telemetry.objects.filter(device_id="gone-1").count() == 150
    assert device_history_purge(device_id="gone-1", cutoff=cutoff, batch_rows=100, budget_seconds=0) == (100, False)
    assert device_history_purge(device_id="gone-1", cutoff=cutoff, batch_rows=100) == (51, True)
    assert not Telemetry.objects.filter(device_id="gone-1").exists() and not Alert.objects.exists()
    assert Telemetry.objects.filter(device_id="kept-1").count() == 10


def test_the_worker_purges_a_decommissioned_device_and_spares_its_new_registration(
    client, mqtt_broker, platform_env, start_process
):
    client.force_login(get_user_model().objects.create_user("ops", is_staff=True))
    client.post("/api/devices/", {"device_id": "gone-1"}, content_type="application/json")
    make_readings(Device.objects.get(pk="gone-1"), 5000, step=timedelta(milliseconds=10))
    make_readings(make_device("kept-1"), 10)

    assert client.delete("/api/devices/gone-1/?purge=true").status_code == 204
    assert Task.objects.filter(task_name=TASK_NAME).count() == 1
    assert Telemetry.objects.filter(device_id="gone-1").count() == 5000  # nothing deleted by the request
    # Registered again before the worker runs: what it sends from now on is not history.
    client.post("/api/devices/", {"device_id": "gone-1"}, content_type="application/json")
    make_readings(Device.objects.get(pk="gone-1"), 3, start=timezone.now() + timedelta(seconds=1))

    worker = start_process("process_tasks", "--duration=0", "--sleep=1", env=platform_env(mqtt_broker))
    wait_until(lambda: Telemetry.objects.filter(device_id="gone-1").count() == 3, timeout=60)
    worker.wait_for_output(r"purged \d+ rows of gone-1's history")
    assert Telemetry.objects.filter(device_id="kept-1").count() == 10
    wait_until(lambda: not Task.objects.filter(task_name=TASK_NAME).exists(), timeout=20)
    assert worker.terminate() == 0
