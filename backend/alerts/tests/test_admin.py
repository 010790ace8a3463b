"""The admin: alert rules edited there (bad values refused), alerts acknowledged from the list."""
import pytest
from django.utils import timezone

from alerts.models import Alert, AlertRule
from devtools.factories import make_device

pytestmark = pytest.mark.django_db

RULE_FORM = {
    "device_type": "", "device": "", "high_temp_threshold": "", "high_temp_hysteresis": "",
    "offline_after_seconds": "", "low_battery_percent": "", "low_battery_hysteresis": "", "anomaly_z": "",
}


def test_a_device_type_rule_is_added_in_the_admin(admin_client):
    response = admin_client.post("/admin/alerts/alertrule/add/",
                                 {**RULE_FORM, "device_type": "freezer", "high_temp_threshold": "-10"})
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = AlertRule.objects.get()
    assert (rule.device_type, rule.high_temp_threshold, rule.anomaly_z) == ("freezer", -10.0, None)


@pytest.mark.parametrize(("field", "value"), [
    ("high_temp_hysteresis", "-1"), ("low_battery_percent", "120"), ("offline_after_seconds", "0"),
])
def test_a_bad_value_is_refused_by_the_admin_form(admin_client, field, value):
    response = admin_client.post("/admin/alerts/alertrule/add/", {**RULE_FORM, "device_type": "t", field: value})
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not AlertRule.objects.exists()


def test_a_rule_must_name_a_device_type_or_a_device_not_both(admin_client):
    make_device("d1")
    for scope in ({}, {"device_type": "t", "device": "d1"}):
        response = admin_client.post("/admin/alerts/alertrule/add/", {**RULE_FORM, **scope, "anomaly_z": "5"})
        assert response.status_code == 200 and response.context["adminform"].form.errors
    assert not AlertRule.objects.exists()


def test_alerts_are_acknowledged_from_the_list_and_the_first_acknowledgement_stays(admin_client, admin_user,
                                                                                   django_user_model):
    device = make_device("d1")
    earlier = django_user_model.objects.create_user("earlier", is_staff=True)
    fresh = Alert.objects.create(device=device, alert_type="HIGH_TEMP", ts=timezone.now(), severity="critical")
    taken = Alert.objects.create(device=device, alert_type="OFFLINE", ts=timezone.now(), severity="critical",
                                 acknowledged_at=timezone.now(), acknowledged_by=earlier)
    response = admin_client.post("/admin/alerts/alert/", {"action": "acknowledge",
                                                          "_selected_action": [fresh.pk, taken.pk]})
    assert response.status_code == 302
    fresh.refresh_from_db()
    taken.refresh_from_db()
    assert fresh.acknowledged_by == admin_user and fresh.acknowledged_at is not None
    assert taken.acknowledged_by == earlier


def test_the_alert_list_filters_by_status_and_severity(admin_client):
    device = make_device("d1")
    Alert.objects.create(device=device, alert_type="HIGH_TEMP", ts=timezone.now(), severity="critical")
    response = admin_client.get("/admin/alerts/alert/?status__exact=ACTIVE&severity__exact=critical")
    assert response.status_code == 200 and b"d1" in response.content
