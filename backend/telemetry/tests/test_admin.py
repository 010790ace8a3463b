"""The admin lists every record type; the readings list never counts the whole table."""
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.models import Alert
from devtools.factories import make_alert, make_device, make_readings
from telemetry.models import RejectedMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def populated():
    device = make_device("device-001")
    make_readings(device, 250)
    make_readings(make_device("device-002"), 5)
    make_alert(device, Alert.Type.HIGH_TEMP, payload={"temperature": 31.0, "threshold": 30.0})
    RejectedMessage.objects.create(topic="devices/x/telemetry", device_id="x", payload="junk",
                                   reason="invalid JSON", digest="0" * 64, received_at=device.last_seen)


@pytest.mark.parametrize(
    "url",
    [
        "/admin/devices/device/",
        "/admin/devices/device/?status__exact=ONLINE&q=device-001",
        "/admin/telemetry/telemetry/",
        "/admin/telemetry/telemetry/?q=device-001",
        "/admin/telemetry/rejectedmessage/",
        "/admin/alerts/alert/?alert_type__exact=HIGH_TEMP",
        "/admin/health/heartbeat/",
    ],
)
def test_each_admin_list_loads(admin_client, populated, url):
    assert admin_client.get(url).status_code == 200


def test_the_readings_list_pages_without_counting_the_table(admin_client, populated):
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/admin/telemetry/telemetry/?p=2")
    assert response.status_code == 200
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and "telemetry_telemetry" in q["sql"]]
    assert counts == []
    assert b"device-001" in response.content


def test_searching_readings_by_device_id_is_exact(admin_client, populated):
    response = admin_client.get("/admin/telemetry/telemetry/?q=device-002")
    assert response.content.count(b"device-002") >= 5
    assert b"device-001" not in response.content.split(b"result_list")[-1]


def test_the_admin_is_behind_a_login(client):
    response = client.get("/admin/telemetry/telemetry/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.fixture
def rejections():
    now = timezone.now()
    rows = [("devices/flooder/telemetry", "flooder", f"invalid JSON: unexpected character at {n}") for n in range(150)]
    rows += [(f"devices/d{n}/telemetry", f"d{n}", "no metric: temperature or humidity is required") for n in range(30)]
    rows += [("devices/bad id/telemetry", None, "topic is not devices/{deviceId}/telemetry with a valid device id")]
    RejectedMessage.objects.bulk_create([
        RejectedMessage(topic=topic, device_id=device_id, payload="junk", reason=reason, digest=f"{index:064x}",
                        received_at=now - timedelta(seconds=index))
        for index, (topic, device_id, reason) in enumerate(rows)
    ])


def listed_rows(response) -> int:
    return len(response.context["cl"].result_list)


def test_the_rejections_list_is_paged_and_offers_bounded_filters(admin_client, rejections):
    response = admin_client.get("/admin/telemetry/rejectedmessage/")
    assert response.status_code == 200
    assert listed_rows(response) == 100
    device_choices = [choice["display"] for spec in response.context["cl"].filter_specs
                      if spec.parameter_name == "device_id" for choice in spec.choices(response.context["cl"])]
    # "All", "none" and the 20 busiest devices, however many devices have rejections.
    assert len(device_choices) == 22 and device_choices[2] == "flooder"
    reason_choices = [choice["display"] for spec in response.context["cl"].filter_specs
                      if spec.parameter_name == "reason" for choice in spec.choices(response.context["cl"])]
    assert reason_choices[1:] == ["invalid JSON", "no metric",
                                  "topic is not devices/{deviceId}/telemetry with a valid device id"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("device_id=d7", 1),
        ("device_id=d29", 1),  # not among the 20 shown, still filterable
        ("device_id=-", 1),
        ("reason=invalid+JSON", 100),
        ("reason=no+metric", 30),
        ("q=flooder&reason=no+metric", 0),
        ("q=d3", 1),
    ],
)
def test_the_rejections_list_filters_by_device_and_reason(admin_client, rejections, query, expected):
    response = admin_client.get(f"/admin/telemetry/rejectedmessage/?{query}")
    assert response.status_code == 200
    assert listed_rows(response) == expected
