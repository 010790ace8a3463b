"""Every bad parameter is a 400 with a reason and a field; writes without credentials change nothing."""
import pytest

from devtools.factories import make_device

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/telemetry/", "deviceId"),
        ("/api/telemetry/?deviceId=", "deviceId"),
        ("/api/telemetry/?deviceId=bad%20id", "deviceId"),
        ("/api/telemetry/?deviceId=device-001&limit=0", "limit"),
        ("/api/telemetry/?deviceId=device-001&limit=10001", "limit"),
        ("/api/telemetry/?deviceId=device-001&limit=abc", "limit"),
        ("/api/telemetry/?deviceId=device-001&limit=-5", "limit"),
        ("/api/telemetry/?deviceId=device-001&since=yesterday", "since"),
        ("/api/telemetry/?deviceId=device-001&until=2024-13-01", "until"),
        ("/api/telemetry/?deviceId=device-001&since=2024-10-02T00:00:00Z&until=2024-10-01T00:00:00Z", "since"),
        ("/api/telemetry/?deviceId=device-001&since=99999999999999999999", "since"),
        ("/api/stats/avg/?window=5m", "deviceId"),
        ("/api/stats/avg/?deviceId=device-001", "window"),
        ("/api/stats/avg/?deviceId=device-001&window=5", "window"),
        ("/api/stats/avg/?deviceId=device-001&window=5w", "window"),
        ("/api/stats/avg/?deviceId=device-001&window=0m", "window"),
        ("/api/stats/avg/?deviceId=device-001&window=31d", "window"),
        ("/api/stats/avg/?deviceId=device-001&window=721h", "window"),
        ("/api/stats/avg/?deviceId=device-001&window=99999999999999999999d", "window"),
        ("/api/stats/avg/?deviceId=device-001&window=-5m", "window"),
        ("/api/alerts/?limit=0", "limit"),
        ("/api/alerts/?limit=1001", "limit"),
        ("/api/alerts/?limit=ten", "limit"),
        ("/api/alerts/?alert_type=FIRE", "alert_type"),
        ("/api/alerts/?deviceId=" + "x" * 65, "deviceId"),
        ("/api/devices/?status=BROKEN", "status"),
        ("/api/telemetry/series/?deviceId=device-001", "window"),
        ("/api/telemetry/series/?deviceId=device-001&window=1h&points=5", "points"),
        ("/api/telemetry/series/?deviceId=device-001&window=1h&points=100000", "points"),
        ("/api/stats/fleet/?window=1y", "window"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_the_field(client, url, field):
    make_device("device-001")
    response = client.get(url)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["field"] == field
    assert isinstance(body["error"], str) and body["error"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/telemetry/?deviceId=nobody",
        "/api/stats/avg/?deviceId=nobody&window=5m",
        "/api/telemetry/series/?deviceId=nobody&window=5m",
    ],
)
def test_an_unknown_device_in_a_query_is_a_404_on_the_deviceid_field(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response.json() == {"error": "unknown device 'nobody'", "field": "deviceId"}


def test_an_unknown_device_page_is_a_404_with_an_error(client):
    response = client.get("/api/devices/nobody/")
    assert response.status_code == 404
    assert "nobody" in response.json()["error"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("url", ["/api/devices/", "/api/devices/device-001/", "/api/telemetry/", "/api/alerts/"])
def test_writes_without_credentials_are_refused_and_change_nothing(client, method, url):
    device = make_device("device-001", name="kept")
    response = getattr(client, method)(url, data={"name": "changed"}, content_type="application/json")
    assert response.status_code in (401, 403, 405)
    device.refresh_from_db()
    assert device.name == "kept"
