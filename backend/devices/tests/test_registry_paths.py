"""The registry's rules on both paths: the real ingest on a real broker, and HTTP, into one database."""
import threading
import time
from collections import Counter

import orjson
import pytest
from django.db import connection
from django.test import Client, override_settings

from api.ingestion import ingest_http_body
from devices.models import Device
from devices.services import device_decommission, device_register
from devtools.waiting import wait_until
from telemetry.models import RejectedMessage, Telemetry

pytestmark = pytest.mark.django_db(transaction=True)

BASE_MS = int(time.time() * 1000) - 3_600_000


def post(client, device_id, key, ts_values):
    body = [{"ts": BASE_MS + ts, "temperature": 21.5, "humidity": 40} for ts in ts_values]
    response = client.post(f"/api/devices/{device_id}/telemetry/", orjson.dumps(body),
                           content_type="application/json", HTTP_X_API_KEY=key)
    assert response.status_code == 202, response.content
    return response.json()


def stored_pairs() -> Counter:
    return Counter((device_id, round(ts.timestamp() * 1000) - BASE_MS)
                   for device_id, ts in Telemetry.objects.values_list("device_id", "ts"))


def test_http_and_mqtt_readings_of_one_device_interleave_without_duplicates(mqtt_broker, start_ingest,
                                                                            publisher_for):
    key = device_register(device_id="dual-1").api_key
    start_ingest(mqtt_broker)
    publisher = publisher_for(mqtt_broker)
    mqtt_ts, http_ts = range(0, 600), range(300, 900)
    http_answers = []

    def http_side():
        client = Client()
        try:
            for start in range(300, 900, 25):
                http_answers.append(post(client, "dual-1", key, range(start, start + 25)))
                # Each chunk again: the repeat must be all duplicates.
                http_answers.append(post(client, "dual-1", key, range(start, start + 25)))
        finally:
            connection.close()

    thread = threading.Thread(target=http_side)
    thread.start()
    for ts in mqtt_ts:
        publisher.reading("dual-1", ts=BASE_MS + ts, temperature=22.5)
    thread.join(timeout=120)
    assert not thread.is_alive()

    expected = set(mqtt_ts) | set(http_ts)
    wait_until(lambda: Telemetry.objects.filter(device_id="dual-1").count() >= len(expected), timeout=60)
    assert stored_pairs() == Counter({("dual-1", ts): 1 for ts in expected})
    assert sum(answer["stored"] + answer["duplicates"] for answer in http_answers) == 2 * len(http_ts)
    assert sum(answer["stored"] for answer in http_answers[1::2]) == 0


@override_settings(AUTO_REGISTER_DEVICES=False)
def test_without_auto_registration_unknown_devices_are_rejected_on_both_paths(mqtt_broker, platform_env,
                                                                              start_ingest, publisher_for):
    key = device_register(device_id="known-1").api_key
    start_ingest(mqtt_broker, env=platform_env(mqtt_broker, AUTO_REGISTER_DEVICES="false"))
    publisher = publisher_for(mqtt_broker)
    publisher.reading("stranger-1", temperature=20, ts=BASE_MS)
    publisher.reading("known-1", temperature=20, ts=BASE_MS)

    wait_until(lambda: Telemetry.objects.filter(device_id="known-1").exists()
               and RejectedMessage.objects.filter(device_id="stranger-1").exists(), timeout=20)
    assert RejectedMessage.objects.get(device_id="stranger-1").reason == "unknown device"
    assert not Device.objects.filter(pk="stranger-1").exists()

    # HTTP: an unregistered id has no key, so it is refused before its readings are read...
    response = Client().post("/api/devices/stranger-2/telemetry/", b'{"temperature": 20}',
                             content_type="application/json", HTTP_X_API_KEY="made-up")
    assert response.status_code == 401
    # ...and the writer behind the endpoint applies the same rule as the ingest.
    result = ingest_http_body(device_id="stranger-2", body=b'[{"temperature": 20}]', received_at=_now())
    assert result["errors"] == [{"index": 0, "reason": "unknown device"}] and result["stored"] == 0
    assert post(Client(), "known-1", key, [1])["stored"] == 1
    assert not Device.objects.filter(pk="stranger-2").exists()


def test_with_auto_registration_an_unknown_device_is_created_by_its_first_reading(mqtt_broker, start_ingest,
                                                                                  publisher_for):
    start_ingest(mqtt_broker)
    publisher_for(mqtt_broker).reading("newcomer-1", temperature=20, ts=BASE_MS)
    wait_until(lambda: Telemetry.objects.filter(device_id="newcomer-1").exists(), timeout=20)
    assert Device.objects.get(pk="newcomer-1").status == "ONLINE"


def test_a_decommissioned_device_s_mqtt_readings_are_rejected_and_its_history_kept(mqtt_broker, start_ingest,
                                                                                   publisher_for):
    device_register(device_id="retired-1")
    start_ingest(mqtt_broker)
    publisher = publisher_for(mqtt_broker)
    publisher.reading("retired-1", temperature=20, ts=BASE_MS)
    wait_until(lambda: Telemetry.objects.filter(device_id="retired-1").exists(), timeout=20)

    device_decommission(device_id="retired-1")
    publisher.reading("retired-1", temperature=21, ts=BASE_MS + 1)
    wait_until(lambda: RejectedMessage.objects.filter(device_id="retired-1").exists(), timeout=20)
    assert RejectedMessage.objects.get(device_id="retired-1").reason == "decommissioned"
    assert stored_pairs() == Counter({("retired-1", 0): 1})


def _now():
    """The receive time of a reading arriving now."""
    from django.utils import timezone

    return timezone.now()
