"""The device registry through the API: register, change, rotate a key, decommission."""
import pytest
from django.contrib.auth import get_user_model

from devtools.factories import make_device, make_readings
from devices.models import Device
from telemetry.models import Telemetry

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    client.force_login(get_user_model().objects.create_user("ops", is_staff=True))
    return client


def register(client, **body):
    return client.post("/api/devices/", body, content_type="application/json")


def test_register_gives_201_with_the_device_and_a_key_shown_once(staff):
    response = register(staff, device_id="sensor-1", name="boiler", device_type="th-2", location="B1",
                        metadata={"floor": 2})
    assert response.status_code == 201
    body = response.json()
    assert {key: body[key] for key in ("device_id", "name", "device_type", "location", "metadata", "status")} == {
        "device_id": "sensor-1", "name": "boiler", "device_type": "th-2", "location": "B1",
        "metadata": {"floor": 2}, "status": "ONLINE"}
    assert len(body["api_key"]) >= 43 and body["latest"] is None and body["last_seen"] is None
    detail = staff.get("/api/devices/sensor-1/").json()
    assert "api_key" not in detail and detail["metadata"] == {"floor": 2}


def test_a_device_without_metadata_shows_an_empty_object(staff):
    make_device("plain")
    assert staff.get("/api/devices/plain/").json()["metadata"] == {}
    assert register(staff, device_id="bare").json()["metadata"] == {}


def test_a_taken_id_is_409(staff):
    assert register(staff, device_id="sensor-1").status_code == 201
    response = register(staff, device_id="sensor-1", name="again")
    assert response.status_code == 409
    assert response.json() == {"error": "device 'sensor-1' is registered already", "field": "device_id"}


def test_a_device_the_ingest_created_is_adopted_with_its_history(staff):
    make_readings(make_device("auto-1"), 3)
    response = register(staff, device_id="auto-1", name="now registered")
    assert response.status_code == 201
    assert response.json()["latest"] is not None and Telemetry.objects.filter(device_id="auto-1").count() == 3


@pytest.mark.parametrize(("body", "field"), [
    ({"device_id": "bad id"}, "device_id"),
    ({"device_id": "-leading-dash"}, "device_id"),
    ({"name": "no id"}, "device_id"),
    ({"device_id": "ok", "name": "x" * 201}, "name"),
    ({"device_id": "ok", "location": ["B1"]}, "location"),
    ({"device_id": "ok", "metadata": [1, 2]}, "metadata"),
    ({"device_id": "ok", "metadata": {"k": "nul\x00"}}, "metadata"),
    ({"device_id": "ok", "status": "OFFLINE"}, "status"),
    ({"device_id": "ok", "api_key": "mine"}, "api_key"),
])
def test_a_bad_id_or_field_is_400_naming_it(staff, body, field):
    response = register(staff, **body)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert not Device.objects.exists()


def test_a_body_that_is_not_an_object_is_400(staff):
    response = staff.post("/api/devices/", [{"device_id": "x"}], content_type="application/json")
    assert response.status_code == 400 and not Device.objects.exists()


def test_writes_need_a_staff_user(client, django_user_model):
    make_device("sensor-1")
    assert register(client, device_id="new").status_code == 403
    client.force_login(django_user_model.objects.create_user("viewer"))
    assert register(client, device_id="new").status_code == 403
    assert client.patch("/api/devices/sensor-1/", {"name": "x"}, content_type="application/json").status_code == 403
    assert client.delete("/api/devices/sensor-1/").status_code == 403
    assert client.post("/api/devices/sensor-1/rotate-key/").status_code == 403
    assert Device.objects.filter(decommissioned_at__isnull=True).count() == 1
    assert not Device.objects.filter(pk="new").exists()


def test_patch_changes_the_given_fields_only(staff):
    register(staff, device_id="sensor-1", name="boiler", location="B1")
    response = staff.patch("/api/devices/sensor-1/", {"location": "B2", "metadata": {"rack": "r4"}},
                           content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["location"], body["metadata"]) == ("boiler", "B2", {"rack": "r4"})


def test_patch_refuses_a_bad_field_and_an_unknown_device(staff):
    make_device("sensor-1")
    response = staff.patch("/api/devices/sensor-1/", {"device_id": "other"}, content_type="application/json")
    assert (response.status_code, response.json()["field"]) == (400, "device_id")
    response = staff.patch("/api/devices/sensor-1/", {"name": 7 * "x" * 40}, content_type="application/json")
    assert (response.status_code, response.json()["field"]) == (400, "name")
    assert staff.patch("/api/devices/ghost/", {"name": "x"}, content_type="application/json").status_code == 404


def test_list_filters_by_type_and_location_combined_with_status(staff):
    make_device("a", device_type="th", location="B1")
    make_device("b", device_type="th", location="B2")
    make_device("c", device_type="co2", location="B1", status="OFFLINE")
    make_device("d", device_type="th", location="B1", status="OFFLINE")

    def ids(query):
        return [row["device_id"] for row in staff.get(f"/api/devices/?{query}").json()]

    assert ids("device_type=th") == ["a", "b", "d"]
    assert ids("location=B1") == ["a", "c", "d"]
    assert ids("device_type=th&location=B1") == ["a", "d"]
    assert ids("device_type=th&location=B1&status=offline") == ["d"]
    assert ids("device_type=TH") == []
    assert ids("device_type=&location=") == ["a", "b", "c", "d"]


def test_rotate_key_gives_200_with_a_new_key(staff):
    old = register(staff, device_id="sensor-1").json()["api_key"]
    response = staff.post("/api/devices/sensor-1/rotate-key/")
    assert response.status_code == 200
    body = response.json()
    assert body["device_id"] == "sensor-1" and body["api_key"] != old
    assert staff.post("/api/devices/ghost/rotate-key/").status_code == 404


def test_delete_decommissions_a_device_and_keeps_its_history(staff):
    register(staff, device_id="sensor-1")
    make_readings(Device.objects.get(pk="sensor-1"), 5)
    assert staff.delete("/api/devices/sensor-1/").status_code == 204

    assert [row["device_id"] for row in staff.get("/api/devices/").json()] == []
    assert staff.get("/api/devices/sensor-1/").status_code == 404
    assert staff.delete("/api/devices/sensor-1/").status_code == 404
    assert staff.post("/api/devices/sensor-1/rotate-key/").status_code == 404
    assert Telemetry.objects.filter(device_id="sensor-1").count() == 5
    # History stays readable by id.
    assert len(staff.get("/api/telemetry/?deviceId=sensor-1").json()) == 5


def test_delete_refuses_a_bad_purge_value(staff):
    make_device("sensor-1")
    response = staff.delete("/api/devices/sensor-1/?purge=maybe")
    assert (response.status_code, response.json()["field"]) == (400, "purge")
    assert Device.objects.get(pk="sensor-1").decommissioned_at is None


def test_a_decommissioned_id_can_be_registered_again_with_a_new_key(staff):
    first = register(staff, device_id="sensor-1", name="old").json()["api_key"]
    make_readings(Device.objects.get(pk="sensor-1"), 2)
    staff.delete("/api/devices/sensor-1/")
    response = register(staff, device_id="sensor-1", name="new")
    assert response.status_code == 201
    body = response.json()
    assert body["api_key"] != first and body["name"] == "new" and body["status"] == "ONLINE"
    assert body["last_seen"] is None and body["latest"] is not None  # the kept history is its history
