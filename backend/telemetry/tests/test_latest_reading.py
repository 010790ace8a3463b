"""Each device keeps its newest reading (latest_*), moved in the batch's own transaction, newest ts winning."""
import re
import time
from datetime import timedelta

import orjson
import pytest
from django.core.cache import caches
from django.utils import timezone

from devices.models import Device
from devices.services import device_register
from devtools.migrations import migrate_to, migrate_to_latest
from devtools.waiting import wait_until
from telemetry.models import Telemetry
from telemetry.payload import Reading
from telemetry.services import telemetry_store_batch
from telemetry.tests.test_ingest_members import publish_readings

TS = 1728481425000


def store(*readings: Reading) -> None:
    telemetry_store_batch(readings=[(reading, timezone.now()) for reading in readings], rejections=[],
                          known_device_ids=set())


def latest(device_id: str) -> tuple:
    return Device.objects.values_list("latest_ts", "latest_temperature", "latest_humidity",
                                      "latest_battery").get(pk=device_id)


@pytest.mark.django_db
def test_a_batch_sets_each_devices_newest_reading_of_the_batch():
    now = timezone.now()
    store(Reading("a", now - timedelta(seconds=2), 20.0, 40.0, 90.0, None),
          Reading("a", now, 21.0, None, 89.0, None),
          Reading("a", now - timedelta(seconds=1), 22.0, 42.0, None, None),
          Reading("b", now, None, 55.0, None, None))
    assert latest("a") == (now, 21.0, None, 89.0)
    assert latest("b") == (now, None, 55.0, None)


@pytest.mark.django_db
def test_an_older_batch_arriving_after_a_newer_one_leaves_the_newest_values():
    now = timezone.now()
    store(Reading("a", now, 30.0, 50.0, 80.0, None))
    store(Reading("a", now - timedelta(minutes=5), 10.0, 20.0, 99.0, None),
          Reading("b", now - timedelta(minutes=5), 11.0, 21.0, None, None))
    assert latest("a") == (now, 30.0, 50.0, 80.0)
    assert latest("b")[1] == 11.0  # the same batch still moves a device that had nothing newer


@pytest.mark.django_db
def test_a_redelivered_reading_with_the_same_ts_changes_nothing():
    now = timezone.now()
    store(Reading("a", now, 30.0, None, None, None))
    store(Reading("a", now, 99.0, None, None, None))  # the stored row keeps 30.0, so does the device
    assert latest("a")[1] == 30.0 and Telemetry.objects.get(device_id="a").temperature == 30.0


@pytest.fixture
def empty_throttles():
    caches["api"].clear()
    yield
    caches["api"].clear()


@pytest.mark.django_db(transaction=True)
def test_http_ingestion_moves_the_newest_values(client, empty_throttles):
    key = device_register(device_id="sensor-1").api_key
    now_ms = int(time.time() * 1000)
    body = [{"ts": now_ms - 1000, "temperature": 20, "battery": 70}, {"ts": now_ms - 2000, "temperature": 19}]
    response = client.post("/api/devices/sensor-1/telemetry/", orjson.dumps(body), content_type="application/json",
                           HTTP_X_API_KEY=key)
    assert response.status_code == 202
    ts, temperature, _, battery = latest("sensor-1")
    assert (round(ts.timestamp() * 1000), temperature, battery) == (now_ms - 1000, 20.0, 70.0)
    assert client.get("/api/devices/sensor-1/").json()["latest"]["battery"] == 70.0


@pytest.mark.django_db(transaction=True)
def test_two_ingest_members_writing_one_devices_readings_leave_its_newest(
    private_broker, platform_env, start_ingest, publisher_for
):
    env = platform_env(private_broker)
    members = [start_ingest(private_broker, "--shared-group", "ingest", env=env) for _ in range(2)]
    # Newest first, split over two processes: a batch that simply overwrote would leave an old one.
    readings = [("shared-1", TS + n * 1000) for n in reversed(range(3000))]
    publish_readings(publisher_for(private_broker), readings)
    wait_until(lambda: Telemetry.objects.filter(device_id="shared-1").count() == len(readings), timeout=60)
    assert round(latest("shared-1")[0].timestamp() * 1000) == TS + 2999 * 1000
    for member in members:
        assert member.terminate() == 0
        totals = re.search(r"ingest stopped \(totals: (\{.*\})\)", member.output()).group(1)
        assert "'received': 0" not in totals and "received" in totals, totals  # both wrote


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_newest_values_from_the_stored_readings():
    apps = migrate_to([("telemetry", "0003_telemetry_partitioned"), ("devices", "0004_link_state")])
    try:
        OldDevice, OldReading = apps.get_model("devices", "Device"), apps.get_model("telemetry", "Telemetry")
        now = timezone.now()
        device = OldDevice.objects.create(device_id="old-1", last_seen=now)
        OldDevice.objects.create(device_id="silent", last_seen=now)
        for seconds, temperature in ((0, 25.0), (-60, 10.0), (-30, 15.0)):
            OldReading.objects.create(device=device, ts=now + timedelta(seconds=seconds), temperature=temperature,
                                      battery=50.0 + seconds, received_at=now)
        migrate_to([("telemetry", "0004_fill_device_latest")])
        assert latest("old-1") == (now, 25.0, None, 50.0)
        assert latest("silent") == (None, None, None, None)
    finally:
        migrate_to_latest()
