"""The admin lists every record type; the readings list never counts the whole table."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.models import Alert
from api.tests.factories import make_alert, make_device, make_readings
from telemetry.models import RejectedMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def populated():
    device = make_device("device-001")
    make_readings(device, 250)
    make_readings(make_device("device-002"), 5)
    make_alert(device, Alert.Type.HIGH_TEMP, payload={"temperature": 31.0, "threshold": 30.0})
    RejectedMessage.objects.create(topic="devices/x/telemetry", payload="junk", reason="invalid JSON",
                                   received_at=device.last_seen)


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
