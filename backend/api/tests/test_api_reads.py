"""The read endpoints return the contract's shapes, newest first, with the documented filters."""
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from devtools.factories import make_alert, make_device, make_readings
from devices.models import Device
from health.services import heartbeat_beat
from telemetry.models import Telemetry
from telemetry.payload import Reading
from telemetry.services import telemetry_store_batch

pytestmark = pytest.mark.django_db

ISO_Z = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"


def test_devices_list_shows_each_device_with_its_newest_reading(client):
    first = make_device("device-001", name="Boiler room", device_type="th-sensor", location="B1")
    make_readings(first, 3, start=datetime(2024, 10, 9, 13, 0, tzinfo=UTC), temperature=20.0)
    make_device("device-002", status=Device.Status.OFFLINE)

    body = client.get("/api/devices/").json()

    assert [device["device_id"] for device in body] == ["device-001", "device-002"]
    assert body[0] == {
        "device_id": "device-001",
        "status": "ONLINE",
        "last_seen": body[0]["last_seen"],
        "name": "Boiler room",
        "device_type": "th-sensor",
        "location": "B1",
        "metadata": {},
        "latest": {"ts": "2024-10-09T13:00:02.000Z", "temperature": 22.0, "humidity": 50.0, "battery": None},
    }
    assert body[1]["latest"] is None and body[1]["status"] == "OFFLINE"


def test_latest_is_the_reading_with_the_newest_ts_not_the_newest_row(client):
    make_device()
    now = timezone.now()
    for ts, temperature in ((now, 30.0), (now - timedelta(hours=1), 10.0)):
        telemetry_store_batch(readings=[(Reading("device-001", ts, temperature, None, None, None), now)],
                              rejections=[], known_device_ids=set())
    assert client.get("/api/devices/").json()[0]["latest"]["temperature"] == 30.0


@pytest.mark.parametrize("status", ["ONLINE", "online", "Online"])
def test_devices_can_be_filtered_by_status_in_any_case(client, status):
    make_device("device-001")
    make_device("device-002", status=Device.Status.OFFLINE)
    assert [d["device_id"] for d in client.get(f"/api/devices/?status={status}").json()] == ["device-001"]


def test_devices_list_reads_the_latest_readings_without_a_query_per_device(client, django_assert_max_num_queries):
    for index in range(30):
        make_readings(make_device(f"device-{index:03}"), 2)
    with django_assert_max_num_queries(3):
        assert len(client.get("/api/devices/").json()) == 30


def test_device_detail_is_one_device_in_the_list_shape(client):
    make_readings(make_device("device-001"), 2)
    body = client.get("/api/devices/device-001/").json()
    assert body["device_id"] == "device-001" and body["latest"]["temperature"] == 26.0
    assert set(body) == {"device_id", "status", "last_seen", "name", "device_type", "location", "metadata",
                         "latest"}


def test_telemetry_is_newest_first_limited_and_in_the_contract_shape(client):
    device = make_device()
    make_readings(device, 150, start=datetime(2024, 10, 9, tzinfo=UTC))

    default = client.get("/api/telemetry/?deviceId=device-001").json()
    limited = client.get("/api/telemetry/?deviceId=device-001&limit=2").json()

    assert len(default) == 100
    assert [row["ts"] for row in limited] == ["2024-10-09T00:02:29.000Z", "2024-10-09T00:02:28.000Z"]
    assert set(limited[0]) == {"id", "device_id", "ts", "temperature", "humidity"}
    assert limited[0]["device_id"] == "device-001"


def test_telemetry_since_and_until_are_inclusive_and_accept_iso_or_epoch_ms(client):
    make_readings(make_device(), 10, start=datetime(2024, 10, 9, tzinfo=UTC))
    since_ms = int(datetime(2024, 10, 9, 0, 0, 2, tzinfo=UTC).timestamp() * 1000)
    body = client.get(f"/api/telemetry/?deviceId=device-001&since={since_ms}&until=2024-10-09T00:00:04Z").json()
    assert [row["ts"][17:19] for row in body] == ["04", "03", "02"]
    zoneless = client.get("/api/telemetry/?deviceId=device-001&since=2024-10-09T00:00:08").json()
    assert len(zoneless) == 2


def test_telemetry_of_a_known_device_without_readings_is_an_empty_list(client):
    make_device()
    assert client.get("/api/telemetry/?deviceId=device-001").json() == []


def test_window_average_covers_only_readings_inside_the_window(client):
    device = make_device()
    now = timezone.now()
    make_readings(device, 4, start=now - timedelta(seconds=40), step=timedelta(seconds=10), temperature=20.0)
    make_readings(device, 3, start=now - timedelta(hours=2), temperature=90.0)

    body = client.get("/api/stats/avg/?deviceId=device-001&window=1m").json()

    assert body == {
        "device_id": "device-001",
        "window": "1m",
        "avg_temperature": pytest.approx(21.5),
        "avg_humidity": pytest.approx(50.0),
        "data_points": 4,
    }


def test_window_average_is_null_when_there_are_no_points(client):
    make_device()
    body = client.get("/api/stats/avg/?deviceId=device-001&window=30d").json()
    assert body == {"device_id": "device-001", "window": "30d", "avg_temperature": None,
                    "avg_humidity": None, "data_points": 0}


def test_series_averages_readings_into_at_most_the_requested_buckets(client):
    device = make_device()
    now = timezone.now()
    make_readings(device, 600, start=now - timedelta(seconds=599))

    body = client.get("/api/telemetry/series/?deviceId=device-001&window=10m&points=60").json()

    assert body["device_id"] == "device-001" and body["window"] == "10m"
    assert body["bucket_seconds"] == 10
    assert 60 <= len(body["points"]) <= 61  # the window's edges may cut one bucket in two
    assert sum(point["count"] for point in body["points"]) == 600
    assert [p["ts"] for p in body["points"]] == sorted(p["ts"] for p in body["points"])
    full = [p for p in body["points"] if p["count"] == 10]
    assert full and all(p["temperature"] == pytest.approx(27.0) for p in full)


def test_fleet_stats_give_every_active_device_its_averages_in_one_response(client):
    now = timezone.now()
    make_readings(make_device("device-001"), 5, start=now - timedelta(seconds=60), temperature=20.0)
    make_readings(make_device("device-002"), 5, start=now - timedelta(hours=1))
    body = client.get("/api/stats/fleet/").json()
    assert body == [{"device_id": "device-001", "avg_temperature": pytest.approx(22.0),
                     "avg_humidity": pytest.approx(50.0), "data_points": 5}]


def test_alerts_are_newest_first_and_filter_by_device_type_and_limit(client):
    one, two = make_device("device-001"), make_device("device-002")
    make_alert(one, "HIGH_TEMP", ago=timedelta(minutes=3), payload={"temperature": 31.0, "threshold": 30.0})
    make_alert(one, "OFFLINE", ago=timedelta(minutes=2))
    make_alert(two, "HIGH_TEMP", ago=timedelta(minutes=1))

    everything = client.get("/api/alerts/").json()
    assert [(a["device_id"], a["alert_type"]) for a in everything] == [
        ("device-002", "HIGH_TEMP"), ("device-001", "OFFLINE"), ("device-001", "HIGH_TEMP")]
    assert set(everything[0]) == {"id", "device_id", "alert_type", "ts", "payload", "severity", "status",
                                  "cleared_at", "acknowledged_at", "acknowledged_by"}
    assert everything[2]["payload"] == {"temperature": 31.0, "threshold": 30.0}

    assert len(client.get("/api/alerts/?deviceId=device-001").json()) == 2
    assert [a["device_id"] for a in client.get("/api/alerts/?alert_type=high_temp").json()] == [
        "device-002", "device-001"]
    assert len(client.get("/api/alerts/?limit=1").json()) == 1
    assert client.get("/api/alerts/?deviceId=nobody").json() == []


def test_every_timestamp_is_iso_utc_with_milliseconds_and_z(client):
    make_readings(make_device(), 1)
    device = client.get("/api/devices/").json()[0]
    reading = client.get("/api/telemetry/?deviceId=device-001").json()[0]
    for value in (device["last_seen"], device["latest"]["ts"], reading["ts"]):
        assert re.match(ISO_Z, value), value


def test_health_is_degraded_without_fresh_heartbeats(client):
    body = client.get("/api/health/").json()
    assert (body["status"], body["database"], body["mqtt"], body["worker"]) == (
        "degraded", "connected", "disconnected", "stopped")


def test_health_is_healthy_when_ingest_and_worker_beat(client):
    heartbeat_beat(process="ingest", state="connected")
    heartbeat_beat(process="worker", state="running")
    body = client.get("/api/health/").json()
    assert (body["status"], body["mqtt"], body["worker"]) == ("healthy", "connected", "running")


def test_health_reports_an_ingest_that_lost_its_broker_as_disconnected(client):
    heartbeat_beat(process="ingest", state="disconnected")
    heartbeat_beat(process="worker", state="running")
    assert client.get("/api/health/").json()["mqtt"] == "disconnected"


def test_health_reports_a_stale_heartbeat_as_stopped(client, settings):
    settings.HEARTBEAT_STALE_SECONDS = 0.001
    heartbeat_beat(process="worker", state="running")
    assert client.get("/api/health/").json()["worker"] == "stopped"


def test_health_is_a_503_when_the_database_is_down(client, monkeypatch):
    from django.db import OperationalError

    def unreachable():
        raise OperationalError("connection refused")

    monkeypatch.setattr("api.views.health_report", unreachable)
    response = client.get("/api/health/")
    assert response.status_code == 503
    assert response.json()["database"] == "disconnected"


def test_config_reports_the_thresholds_in_force(client, settings):
    settings.HIGH_TEMP_THRESHOLD = 31.5
    assert client.get("/api/config/").json() == {
        "high_temp_threshold": 31.5, "offline_after_seconds": 10.0, "user": None,
    }


def test_config_names_the_signed_in_user_and_whether_they_are_staff(client, django_user_model):
    operator = django_user_model.objects.create_user("operator", password="unused-in-tests", is_staff=True)
    viewer = django_user_model.objects.create_user("viewer", password="unused-in-tests")

    client.force_login(operator)
    assert client.get("/api/config/").json()["user"] == {"username": "operator", "is_staff": True}
    client.force_login(viewer)
    assert client.get("/api/config/").json()["user"] == {"username": "viewer", "is_staff": False}
    client.logout()
    assert client.get("/api/config/").json()["user"] is None


def test_config_names_the_user_of_a_token(client, django_user_model):
    from rest_framework.authtoken.models import Token

    operator = django_user_model.objects.create_user("operator", password="unused-in-tests", is_staff=True)
    token = Token.objects.create(user=operator)
    body = client.get("/api/config/", HTTP_AUTHORIZATION=f"Token {token.key}").json()
    assert body["user"] == {"username": "operator", "is_staff": True}
