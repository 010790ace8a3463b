"""The device admin's action: the selected devices' readings as a streamed CSV."""
import csv
import io
from datetime import UTC, datetime

import pytest
from django.http import StreamingHttpResponse

from devtools.factories import make_device, make_readings

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def export(client, *device_ids):
    return client.post("/admin/devices/device/", {"action": "export_readings_csv", "_selected_action": device_ids})


def test_the_action_streams_the_selected_devices_readings_oldest_first(admin_client):
    for device_id, count in (("device-001", 3), ("device-002", 2), ("device-003", 4)):
        make_readings(make_device(device_id), count, start=START)
    response = export(admin_client, "device-003", "device-001")
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="telemetry-devices.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(row["device_id"], row["ts"]) for row in rows] == [
        ("device-001", "2026-03-01T12:00:00.000Z"), ("device-001", "2026-03-01T12:00:01.000Z"),
        ("device-001", "2026-03-01T12:00:02.000Z"),
        ("device-003", "2026-03-01T12:00:00.000Z"), ("device-003", "2026-03-01T12:00:01.000Z"),
        ("device-003", "2026-03-01T12:00:02.000Z"), ("device-003", "2026-03-01T12:00:03.000Z"),
    ]
    assert rows[0]["temperature"] == "25.0" and rows[0]["battery"] == ""


def test_one_device_gets_its_own_file_name(admin_client):
    make_readings(make_device("device-001"), 1, start=START)
    disposition = export(admin_client, "device-001")["Content-Disposition"]
    assert disposition == 'attachment; filename="telemetry-device-001.csv"'


def test_a_user_without_the_admin_cannot_run_it(client, django_user_model):
    make_readings(make_device("device-001"), 1, start=START)
    client.force_login(django_user_model.objects.create_user("viewer", password="unused-in-tests"))
    response = export(client, "device-001")
    assert not isinstance(response, StreamingHttpResponse)
    assert response.status_code == 302  # to the admin login
