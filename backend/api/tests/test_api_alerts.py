"""/api/alerts/ filters by status, acknowledgement and severity; acknowledging; /api/rules/."""
from datetime import timedelta

import pytest

from alerts.models import Alert, AlertRule
from devtools.factories import make_alert, make_device, make_token

pytestmark = pytest.mark.django_db


def token_header(user) -> dict:
    return {"Authorization": f"Token {make_token(user)}"}


@pytest.fixture
def fleet():
    one, two = make_device("device-001"), make_device("device-002")
    return {
        "hot": make_alert(one, "HIGH_TEMP", ago=timedelta(minutes=4)),
        "online": make_alert(one, "ONLINE", ago=timedelta(minutes=3), status="CLEARED"),
        "battery": make_alert(two, "LOW_BATTERY", ago=timedelta(minutes=2)),
        "old": make_alert(two, "HIGH_TEMP", ago=timedelta(minutes=1), status="CLEARED"),
    }


def ids(response):
    assert response.status_code == 200, response.content
    return [a["id"] for a in response.json()]


class TestFilters:
    def test_status_filter_is_case_insensitive(self, client, fleet):
        assert ids(client.get("/api/alerts/?status=active")) == [fleet["battery"].id, fleet["hot"].id]
        assert ids(client.get("/api/alerts/?status=CLEARED")) == [fleet["old"].id, fleet["online"].id]

    def test_severity_filter_is_case_insensitive(self, client, fleet):
        assert ids(client.get("/api/alerts/?severity=CRITICAL")) == [fleet["old"].id, fleet["hot"].id]
        assert ids(client.get("/api/alerts/?severity=info")) == [fleet["online"].id]

    def test_acknowledged_filter(self, client, fleet, staff):
        client.post(f"/api/alerts/{fleet['hot'].id}/acknowledge/", headers=token_header(staff))
        assert ids(client.get("/api/alerts/?acknowledged=TRUE")) == [fleet["hot"].id]
        assert fleet["hot"].id not in ids(client.get("/api/alerts/?acknowledged=false"))

    def test_filters_combine_with_the_existing_ones(self, client, fleet):
        assert ids(client.get("/api/alerts/?status=ACTIVE&deviceId=device-002&alert_type=low_battery")) == [
            fleet["battery"].id]

    def test_every_alert_has_the_new_fields(self, client, fleet):
        alert = client.get("/api/alerts/?limit=1").json()[0]
        assert alert["severity"] == "critical" and alert["status"] == "CLEARED"
        assert alert["cleared_at"].endswith("Z")
        assert alert["acknowledged_at"] is None and alert["acknowledged_by"] is None

    @pytest.mark.parametrize(("query", "field"), [
        ("status=OPEN", "status"), ("acknowledged=yes", "acknowledged"), ("acknowledged=1", "acknowledged"),
        ("severity=fatal", "severity"), ("alert_type=LOW", "alert_type"),
    ])
    def test_a_wrong_value_is_a_400_naming_the_parameter(self, client, query, field):
        response = client.get(f"/api/alerts/?{query}")
        assert response.status_code == 400
        assert response.json()["field"] == field and response.json()["error"]


class TestAcknowledge:
    def test_a_staff_token_acknowledges_and_a_second_call_changes_nothing(self, client, fleet, staff,
                                                                        django_user_model):
        url = f"/api/alerts/{fleet['hot'].id}/acknowledge/"
        first = client.post(url, headers=token_header(staff))
        assert first.status_code == 200
        body = first.json()
        assert body["id"] == fleet["hot"].id and body["acknowledged_by"] == "operator"
        assert body["acknowledged_at"].endswith("Z")
        other = django_user_model.objects.create_user("second", password="x", is_staff=True)
        again = client.post(url, headers=token_header(other))
        assert again.status_code == 200 and again.json() == body

    def test_a_staff_session_acknowledges(self, client, fleet, staff):
        client.force_login(staff)
        response = client.post(f"/api/alerts/{fleet['battery'].id}/acknowledge/")
        assert response.status_code == 200 and response.json()["acknowledged_by"] == "operator"

    def test_anonymous_is_refused(self, client, fleet):
        response = client.post(f"/api/alerts/{fleet['hot'].id}/acknowledge/")
        assert response.status_code in (401, 403) and "error" in response.json()
        assert Alert.objects.get(pk=fleet["hot"].id).acknowledged_at is None

    def test_a_user_who_is_not_staff_is_refused(self, client, fleet, viewer):
        response = client.post(f"/api/alerts/{fleet['hot'].id}/acknowledge/", headers=token_header(viewer))
        assert response.status_code == 403
        assert Alert.objects.get(pk=fleet["hot"].id).acknowledged_at is None

    @pytest.mark.parametrize("alert_id", ["999999", "abc", "-1", "9" * 30])
    def test_an_unknown_id_is_a_404(self, client, staff, alert_id):
        response = client.post(f"/api/alerts/{alert_id}/acknowledge/", headers=token_header(staff))
        assert response.status_code == 404 and "unknown alert" in response.json()["error"]


class TestRules:
    def test_the_overview_lists_defaults_and_rules(self, client, settings):
        settings.HIGH_TEMP_THRESHOLD = 31.0
        device = make_device("device-001", device_type="freezer")
        AlertRule.objects.create(device_type="freezer", high_temp_threshold=-10.0)
        AlertRule.objects.create(device=device, anomaly_z=6.0)
        body = client.get("/api/rules/").json()
        assert body["defaults"]["high_temp_threshold"] == 31.0
        assert [t["device_type"] for t in body["device_types"]] == ["freezer"]
        [own] = body["devices"]
        assert own["anomaly_z"] == 6.0 and own["high_temp_threshold"] is None
        assert own["effective"]["high_temp_threshold"] == {"value": -10.0, "source": "device_type"}
        assert own["effective"]["anomaly_z"] == {"value": 6.0, "source": "device"}

    def test_a_staff_user_puts_a_device_type_rule_and_removes_it(self, client, staff):
        url = "/api/rules/device-types/freezer/"
        response = client.put(url, {"high_temp_threshold": -10, "high_temp_hysteresis": 1.5},
                              content_type="application/json", headers=token_header(staff))
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["high_temp_threshold"] == -10.0 and body["offline_after_seconds"] is None
        assert body["effective"]["high_temp_hysteresis"] == {"value": 1.5, "source": "device_type"}
        assert client.get(url).json()["high_temp_threshold"] == -10.0
        assert client.delete(url, headers=token_header(staff)).status_code == 204
        assert client.get(url).json()["effective"]["high_temp_threshold"]["source"] == "default"

    def test_a_put_replaces_the_whole_rule(self, client, staff):
        device = make_device("device-001")
        url = "/api/rules/devices/device-001/"
        client.put(url, {"anomaly_z": 5, "low_battery_percent": 20}, content_type="application/json",
                   headers=token_header(staff))
        client.put(url, {"anomaly_z": 6}, content_type="application/json", headers=token_header(staff))
        rule = AlertRule.objects.get(device=device)
        assert (rule.anomaly_z, rule.low_battery_percent) == (6.0, None)

    @pytest.mark.parametrize(("body", "field"), [
        ({"high_temp_threshold": "hot"}, "high_temp_threshold"),
        ({"high_temp_hysteresis": -1}, "high_temp_hysteresis"),
        ({"offline_after_seconds": 0}, "offline_after_seconds"),
        ({"low_battery_percent": 101}, "low_battery_percent"),
        ({"low_battery_hysteresis": -0.5}, "low_battery_hysteresis"),
        ({"anomaly_z": 0}, "anomaly_z"),
        ({"anomaly_z": "NaN"}, "anomaly_z"),
        ({"high_temp_treshold": 40}, "high_temp_treshold"),
    ])
    def test_a_bad_value_is_a_400_naming_the_field(self, client, staff, body, field):
        make_device("device-001")
        response = client.put("/api/rules/devices/device-001/", body, content_type="application/json",
                              headers=token_header(staff))
        assert response.status_code == 400, response.content
        assert response.json()["field"] == field
        assert not AlertRule.objects.exists()

    def test_a_body_that_is_not_an_object_is_a_400(self, client, staff):
        response = client.put("/api/rules/device-types/x/", [1, 2], content_type="application/json",
                              headers=token_header(staff))
        assert response.status_code == 400

    def test_an_unknown_device_is_a_404(self, client, staff):
        assert client.get("/api/rules/devices/nobody/").status_code == 404
        response = client.put("/api/rules/devices/nobody/", {"anomaly_z": 5}, content_type="application/json",
                              headers=token_header(staff))
        assert response.status_code == 404

    def test_a_too_long_device_type_is_a_400(self, client):
        response = client.get(f"/api/rules/device-types/{'t' * 101}/")
        assert response.status_code == 400 and response.json()["field"] == "device_type"

    def test_writes_need_a_staff_user(self, client, viewer):
        make_device("device-001")
        assert client.put("/api/rules/devices/device-001/", {"anomaly_z": 5},
                          content_type="application/json").status_code == 403
        assert client.put("/api/rules/devices/device-001/", {"anomaly_z": 5}, content_type="application/json",
                          headers=token_header(viewer)).status_code == 403
        assert client.delete("/api/rules/device-types/x/", headers=token_header(viewer)).status_code == 403
        assert not AlertRule.objects.exists()
