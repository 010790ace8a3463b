"""/api/notifications/webhooks/ and /emails/: staff-only CRUD, the secret never shown, 400s naming the field."""
import pytest

from notifications.models import EmailSubscription, WebhookSubscription
from devtools.factories import WEBHOOK_SECRET

pytestmark = pytest.mark.django_db

WEBHOOKS = "/api/notifications/webhooks/"
EMAILS = "/api/notifications/emails/"
NEW_HOOK = {"name": "ops", "url": "https://hooks.example.com/T1/B2", "secret": WEBHOOK_SECRET, "body_format": "slack",
            "alert_types": ["OFFLINE", "HIGH_TEMP"], "min_severity": "warning"}


@pytest.fixture
def staff_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("operator", password="unused", is_staff=True))
    return client


def test_a_webhook_is_created_read_updated_and_deleted_and_its_secret_is_never_returned(staff_client):
    created = staff_client.post(WEBHOOKS, NEW_HOOK, content_type="application/json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert "secret" not in body and WEBHOOK_SECRET not in created.content.decode()
    assert body == {"id": body["id"], "name": "ops", "url": NEW_HOOK["url"], "body_format": "slack",
                    "alert_types": ["HIGH_TEMP", "OFFLINE"], "min_severity": "warning", "active": True,
                    "created_at": body["created_at"]}
    assert WebhookSubscription.objects.get().secret == WEBHOOK_SECRET

    url = f"{WEBHOOKS}{body['id']}/"
    for response in (staff_client.get(WEBHOOKS), staff_client.get(url)):
        assert response.status_code == 200 and WEBHOOK_SECRET not in response.content.decode()
    assert [hook["id"] for hook in staff_client.get(WEBHOOKS).json()] == [body["id"]]

    patched = staff_client.patch(url, {"active": False}, content_type="application/json")
    assert patched.status_code == 200 and patched.json()["active"] is False
    assert WebhookSubscription.objects.get().secret == WEBHOOK_SECRET  # kept when not sent
    staff_client.patch(url, {"secret": "another-secret-of-16+"}, content_type="application/json")
    assert WebhookSubscription.objects.get().secret == "another-secret-of-16+"

    replaced = staff_client.put(url, {**NEW_HOOK, "url": "http://10.0.0.5:8080/in", "body_format": "json"},
                                content_type="application/json")
    assert replaced.status_code == 200 and replaced.json()["url"] == "http://10.0.0.5:8080/in"

    assert staff_client.delete(url).status_code == 204
    assert staff_client.get(url).status_code == 404
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"url": "ftp://files.example.com/in"}, "url"),
    ({"url": "javascript:alert(1)"}, "url"),
    ({"url": "not a url"}, "url"),
    ({"url": None}, "url"),
    ({"secret": "short"}, "secret"),
    ({"secret": None}, "secret"),
    ({"body_format": "xml"}, "body_format"),
    ({"alert_types": ["NOPE"]}, "alert_types"),
    ({"alert_types": "OFFLINE"}, "alert_types"),
    ({"min_severity": "urgent"}, "min_severity"),
    ({"name": ""}, "name"),
    ({"active": "maybe"}, "active"),
])
def test_a_bad_webhook_is_refused_with_400_naming_the_field(staff_client, change, field):
    response = staff_client.post(WEBHOOKS, {**NEW_HOOK, **change}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["field"] == field, response.json()
    assert not WebhookSubscription.objects.exists()


def test_a_webhook_needs_a_url_and_a_secret(staff_client):
    for missing in ("url", "secret"):
        body = {key: value for key, value in NEW_HOOK.items() if key != missing}
        response = staff_client.post(WEBHOOKS, body, content_type="application/json")
        assert (response.status_code, response.json()["field"]) == (400, missing)


def test_an_email_subscription_is_created_and_bad_addresses_are_refused(staff_client):
    created = staff_client.post(EMAILS, {"name": "on-call", "recipients": ["a@example.com"],
                                         "min_severity": "critical"}, content_type="application/json")
    assert created.status_code == 201, created.json()
    assert created.json()["recipients"] == ["a@example.com"] and created.json()["alert_types"] == []
    assert EmailSubscription.objects.get().min_severity == "critical"
    for recipients in (["not-an-address"], [], "a@example.com"):
        response = staff_client.post(EMAILS, {"name": "x", "recipients": recipients}, content_type="application/json")
        assert (response.status_code, response.json()["field"]) == (400, "recipients")
    assert staff_client.delete(f"{EMAILS}{created.json()['id']}/").status_code == 204


@pytest.mark.parametrize("path", [WEBHOOKS, EMAILS])
def test_anonymous_clients_and_users_who_are_not_staff_can_neither_read_nor_write(client, django_user_model, path):
    hook = WebhookSubscription.objects.create(name="ops", url="https://example.com/", secret=WEBHOOK_SECRET)
    for attempt in (lambda: client.get(path), lambda: client.get(f"{WEBHOOKS}{hook.id}/"),
                    lambda: client.post(path, NEW_HOOK, content_type="application/json"),
                    lambda: client.delete(f"{WEBHOOKS}{hook.id}/")):
        response = attempt()
        assert response.status_code == 403 and "error" in response.json()
    client.force_login(django_user_model.objects.create_user("viewer", password="unused"))
    assert client.get(path).status_code == 403
    assert WebhookSubscription.objects.count() == 1


def test_the_admin_shows_the_secret_masked(admin_client):
    hook = WebhookSubscription.objects.create(name="ops", url="https://example.com/", secret=WEBHOOK_SECRET)
    for page in ("/admin/notifications/webhooksubscription/",
                 f"/admin/notifications/webhooksubscription/{hook.id}/change/"):
        response = admin_client.get(page)
        assert response.status_code == 200
        assert WEBHOOK_SECRET not in response.content.decode()
    assert "••••cdef" in admin_client.get("/admin/notifications/webhooksubscription/").content.decode()
    # Saving without typing a secret keeps it.
    response = admin_client.post(f"/admin/notifications/webhooksubscription/{hook.id}/change/", {
        "name": "ops", "url": "https://example.com/new", "secret": "", "body_format": "json",
        "min_severity": "info", "active": "on"})
    assert response.status_code == 302
    hook.refresh_from_db()
    assert (hook.url, hook.secret) == ("https://example.com/new", WEBHOOK_SECRET)


def test_the_delivery_log_is_read_only_filterable_and_searchable_in_the_admin(admin_client):
    from notifications.models import Delivery
    from notifications.services import notifications_enqueue
    from devtools.factories import make_alert, make_webhook

    make_webhook()
    notifications_enqueue(alerts=[make_alert("boiler")], event="raised")
    delivery = Delivery.objects.get()
    log = "/admin/notifications/delivery/"
    assert "boiler" in admin_client.get(log, {"status__exact": "pending"}).content.decode()
    assert "boiler" not in admin_client.get(log, {"status__exact": "failed"}).content.decode()
    for query in ("boiler", str(delivery.uuid), "not-a-uuid"):
        assert admin_client.get(log, {"q": query}).status_code == 200
    assert "boiler" in admin_client.get(log, {"q": str(delivery.uuid)}).content.decode()
    assert admin_client.get(f"{log}{delivery.pk}/change/").status_code == 200  # view only
    assert admin_client.get(f"{log}add/").status_code == 403
    response = admin_client.post(f"{log}{delivery.pk}/change/", {"status": "delivered"})
    assert response.status_code == 403
    assert Delivery.objects.get().status == "pending"
