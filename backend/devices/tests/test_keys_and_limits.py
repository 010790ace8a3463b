"""Device keys are never kept nor logged in clear; HTTP ingestion is rate limited per key and per address."""
import logging
import time

import orjson
import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connection
from django.test import override_settings

from api.throttles import FixedWindowThrottle
from devices.keys import key_hash

pytestmark = pytest.mark.django_db(transaction=True)

NOW_MS = int(time.time() * 1000)


def ingest(client, device_id, key, ts=0, **extra):
    return client.post(f"/api/devices/{device_id}/telemetry/", orjson.dumps({"ts": NOW_MS - 1000 + ts,
                       "temperature": 20}), content_type="application/json", HTTP_X_API_KEY=key, **extra)


def every_text_in_the_database() -> str:
    """Every row of every table, as text."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            parts.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(parts)


def test_a_key_is_neither_stored_nor_logged_in_clear(client, caplog, admin_client):
    caplog.set_level(logging.DEBUG)
    staff = get_user_model().objects.create_user("ops", is_staff=True)
    client.force_login(staff)
    first = client.post("/api/devices/", {"device_id": "secret-1"}, content_type="application/json").json()["api_key"]
    assert ingest(client, "secret-1", first).status_code == 202
    second = client.post("/api/devices/secret-1/rotate-key/").json()["api_key"]
    assert ingest(client, "secret-1", second, ts=1).status_code == 202
    assert ingest(client, "secret-1", first, ts=2).status_code == 401
    admin_page = admin_client.get("/admin/devices/device/secret-1/change/").content.decode()
    admin_list = admin_client.get("/admin/devices/device/").content.decode()

    dump = every_text_in_the_database()
    assert key_hash(second) in dump  # the dump does hold the device row
    for key in (first, second):
        assert key not in dump
        assert key not in caplog.text
        assert key not in admin_page and key not in admin_list
        assert key_hash(key) not in admin_page
    assert second[:8] in admin_list


@pytest.fixture
def api_cache():
    caches["api"].clear()
    yield caches["api"]
    caches["api"].clear()


@pytest.fixture
def clock(monkeypatch):
    """The throttles' clock, at the start of a minute, moved by hand."""
    now = [60.0 * 1_000_000]
    monkeypatch.setattr(FixedWindowThrottle, "timer", lambda self: now[0])
    return now


@pytest.fixture
def keys():
    from devices.services import device_register

    return {device_id: device_register(device_id=device_id).api_key for device_id in ("t-1", "t-2", "t-3")}


@override_settings(INGEST_THROTTLE_DEVICE="3/min", INGEST_THROTTLE_ADDRESS="100/min")
def test_a_key_over_its_rate_gets_429_with_retry_after_and_recovers_after_the_window(client, api_cache, clock,
                                                                                     keys):
    assert [ingest(client, "t-1", keys["t-1"], ts=i).status_code for i in range(3)] == [202] * 3
    clock[0] += 20
    response = ingest(client, "t-1", keys["t-1"], ts=3)
    assert response.status_code == 429
    assert set(response.json()) == {"error"} and "throttled" in response.json()["error"]
    assert int(response["Retry-After"]) == 40
    # Another key from the same address is not held back.
    assert ingest(client, "t-2", keys["t-2"]).status_code == 202

    clock[0] += 40
    assert ingest(client, "t-1", keys["t-1"], ts=4).status_code == 202


@override_settings(INGEST_THROTTLE_DEVICE="100/min", INGEST_THROTTLE_ADDRESS="4/min")
def test_an_address_over_its_rate_gets_429_whatever_keys_it_sends(client, api_cache, clock, keys):
    statuses = [ingest(client, device_id, key, REMOTE_ADDR="10.0.0.1").status_code for device_id, key in keys.items()]
    statuses.append(ingest(client, "t-1", "guess", REMOTE_ADDR="10.0.0.1").status_code)
    assert statuses == [202, 202, 202, 401]
    response = ingest(client, "t-2", "another guess", REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429 and int(response["Retry-After"]) == 60
    assert ingest(client, "t-1", keys["t-1"], REMOTE_ADDR="10.0.0.2", ts=9).status_code == 202
    # A forged X-Forwarded-For (API_NUM_PROXIES=0) buys no fresh bucket.
    assert ingest(client, "t-3", keys["t-3"], REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.9",
                  ts=5).status_code == 429
    clock[0] += 60
    assert ingest(client, "t-3", keys["t-3"], REMOTE_ADDR="10.0.0.1", ts=6).status_code == 202


@override_settings(INGEST_THROTTLE_DEVICE="2/min")
def test_the_counts_live_in_the_shared_api_cache(client, api_cache, clock, keys):
    ingest(client, "t-1", keys["t-1"])
    ingest(client, "t-1", keys["t-1"], ts=1)
    # What another web worker sees: the same cache, so the same count.
    caches["default"].clear()
    assert ingest(client, "t-1", keys["t-1"], ts=2).status_code == 429
    api_cache.clear()
    assert ingest(client, "t-1", keys["t-1"], ts=3).status_code == 202


@override_settings(INGEST_THROTTLE_DEVICE="1/min", INGEST_THROTTLE_ADDRESS="1/min")
def test_a_failing_shared_cache_lets_readings_in_and_is_logged_once(client, api_cache, keys, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(api_cache, "add", broken)
    statuses = [ingest(client, "t-1", keys["t-1"], ts=i).status_code for i in range(3)]
    assert statuses == [202] * 3
    assert caplog.text.count("ingestion rate limits not applied") == 1
    monkeypatch.undo()
    assert ingest(client, "t-1", keys["t-1"], ts=9).status_code == 202
    assert "ingestion rate limits apply again" in caplog.text
    assert ingest(client, "t-1", keys["t-1"], ts=10).status_code == 429
