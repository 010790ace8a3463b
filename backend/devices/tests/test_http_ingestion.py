"""POST /api/devices/{id}/telemetry/: key authentication, the MQTT payload rules, the batch writer."""
import time

import orjson
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches

from api.ingestion import MAX_READINGS_PER_REQUEST
from devices.services import device_decommission, device_register, device_rotate_key
from telemetry.models import RejectedMessage, Telemetry

pytestmark = pytest.mark.django_db(transaction=True)

NOW_MS = int(time.time() * 1000)


@pytest.fixture(autouse=True)
def empty_throttles():
    caches["api"].clear()
    yield
    caches["api"].clear()


def post(client, device_id, body, key=None, **extra):
    headers = {"HTTP_X_API_KEY": key} if key is not None else {}
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return client.post(f"/api/devices/{device_id}/telemetry/", data, content_type="application/json",
                       **headers, **extra)


def reading(i: int, **fields) -> dict:
    return {"ts": NOW_MS - 100_000 + i, "temperature": 20 + i % 10, "humidity": 50, **fields}


@pytest.fixture
def key():
    return device_register(device_id="sensor-1").api_key


def stored_ts(device_id="sensor-1") -> list[int]:
    return sorted(round(ts.timestamp() * 1000) for ts in Telemetry.objects.filter(device_id=device_id)
                  .values_list("ts", flat=True))


def test_one_reading_is_202_and_stored(client, key):
    response = post(client, "sensor-1", reading(0, battery=80, rssi=-60), key)
    assert response.status_code == 202
    assert response.json() == {"stored": 1, "duplicates": 0, "rejected": 0, "errors": []}
    row = Telemetry.objects.get(device_id="sensor-1")
    assert (row.temperature, row.battery, row.extra) == (20.0, 80.0, {"rssi": -60})


def test_an_array_is_stored_once_and_its_repeat_is_all_duplicates(client, key):
    body = [reading(i) for i in range(MAX_READINGS_PER_REQUEST)]
    assert post(client, "sensor-1", body, key).json() == {"stored": 1000, "duplicates": 0, "rejected": 0,
                                                           "errors": []}
    assert post(client, "sensor-1", body, key).json() == {"stored": 0, "duplicates": 1000, "rejected": 0,
                                                           "errors": []}
    assert len(stored_ts()) == 1000


def test_bad_readings_are_rejected_by_index_with_the_mqtt_reasons_and_stored_as_rejections(client, key):
    body = [reading(0), reading(1, temperature=500), "text", reading(3, deviceId="other"), {"humidity": None},
            reading(5)]
    response = post(client, "sensor-1", body, key)
    assert response.status_code == 202
    assert response.json() == {"stored": 2, "duplicates": 0, "rejected": 4, "errors": [
        {"index": 1, "reason": "temperature out of range -100..200"},
        {"index": 2, "reason": "payload is not a JSON object"},
        {"index": 3, "reason": "deviceId does not match the topic's device id"},
        {"index": 4, "reason": "no metric: temperature or humidity is required"},
    ]}
    rows = RejectedMessage.objects.filter(device_id="sensor-1")
    assert sorted(rows.values_list("reason", flat=True)) == sorted(e["reason"] for e in response.json()["errors"])
    assert set(rows.values_list("topic", flat=True)) == {"devices/sensor-1/telemetry"}


def test_a_missing_or_wrong_key_is_401_and_stores_nothing(client, key):
    assert post(client, "sensor-1", reading(0)).status_code == 401
    assert post(client, "sensor-1", reading(0), "not-a-key").status_code == 401
    assert post(client, "sensor-1", reading(0), "").status_code == 401
    assert post(client, "unregistered", reading(0), key + "x").status_code == 401
    assert not Telemetry.objects.exists() and not RejectedMessage.objects.exists()


def test_the_key_of_another_device_is_403(client, key):
    other = device_register(device_id="sensor-2").api_key
    response = post(client, "sensor-1", reading(0), other)
    assert response.status_code == 403
    assert response.json() == {"error": "this key belongs to another device"}
    assert post(client, "unregistered", reading(0), key).status_code == 403
    assert not Telemetry.objects.exists()


def test_a_rotated_key_stops_working_at_once(client, key):
    new = device_rotate_key(device_id="sensor-1")
    assert post(client, "sensor-1", reading(0), key).status_code == 401
    assert post(client, "sensor-1", reading(0), new).status_code == 202


def test_more_than_1000_readings_is_400(client, key):
    response = post(client, "sensor-1", [reading(i) for i in range(MAX_READINGS_PER_REQUEST + 1)], key)
    assert response.status_code == 400
    assert response.json() == {"error": "more than 1000 readings in one request"}
    assert not Telemetry.objects.exists()


@pytest.mark.parametrize("body", [b"{not json", b'"a string"', b"42", b"[" * 40 + b"]" * 40, b""])
def test_a_body_that_is_not_readings_is_400(client, key, body):
    response = post(client, "sensor-1", body, key)
    assert response.status_code == 400 and set(response.json()) == {"error"}


def test_a_body_over_the_limit_is_413_before_the_key_is_checked(client, key):
    body = b"[" + b",".join([orjson.dumps(reading(0, pad="x" * 2000))] * 600) + b"]"
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert post(client, "sensor-1", body, key).status_code == 413
    assert post(client, "sensor-1", body).status_code == 413


def test_1000_typical_readings_fit_well_within_the_body_limit():
    typical = {"deviceId": "device-0000000001", "ts": NOW_MS, "temperature": -12.25, "humidity": 47.9,
               "battery": 88.5}
    body = orjson.dumps([typical] * MAX_READINGS_PER_REQUEST)
    assert len(body) * 5 < settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def test_no_session_and_no_csrf_are_needed_and_a_staff_session_is_not_a_key(key):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    assert post(client, "sensor-1", reading(0), key).status_code == 202
    client.force_login(get_user_model().objects.create_user("ops", is_staff=True))
    assert post(client, "sensor-1", reading(1)).status_code == 401


def test_a_decommissioned_device_keeps_its_history_and_its_new_readings_are_rejected(client, key):
    post(client, "sensor-1", [reading(0), reading(1)], key)
    device_decommission(device_id="sensor-1")
    response = post(client, "sensor-1", [reading(2), reading(3, temperature=900)], key)
    assert response.status_code == 202
    assert response.json() == {"stored": 0, "duplicates": 0, "rejected": 2, "errors": [
        {"index": 0, "reason": "decommissioned"},
        {"index": 1, "reason": "temperature out of range -100..200"},
    ]}
    assert stored_ts() == [NOW_MS - 100_000, NOW_MS - 100_000 + 1]
    assert RejectedMessage.objects.filter(device_id="sensor-1", reason="decommissioned").count() == 1


def test_a_401_names_the_scheme_it_wants(client, key):
    assert post(client, "sensor-1", reading(0))["WWW-Authenticate"] == 'ApiKey header="X-API-Key"'


def test_a_database_that_refuses_the_batch_is_503_with_retry_after_and_the_retry_stores_it(client, key,
                                                                                            monkeypatch):
    from django.db import OperationalError

    import api.ingestion

    def locked(**kwargs):
        raise OperationalError("database is locked")

    with monkeypatch.context() as patch:
        patch.setattr(api.ingestion, "telemetry_store_batch", locked)
        response = post(client, "sensor-1", [reading(0), reading(1)], key)
    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert set(response.json()) == {"error"} and not Telemetry.objects.exists()
    assert post(client, "sensor-1", [reading(0), reading(1)], key).json()["stored"] == 2
