"""The outbox against the database: enqueue, its idempotence and transactions; the drain in this process."""
import json
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from api.serializers import AlertSerializer
from notifications.drain import DeliveryDrain
from notifications.models import Delivery
from notifications.services import delivery_claim, deliveries_expire, deliveries_prune, notifications_enqueue
from devtools.factories import WEBHOOK_SECRET, make_alert, make_email, make_webhook
from notifications.tests.receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


def test_enqueue_creates_one_delivery_per_matching_subscription_and_repeating_it_adds_none():
    everything = make_webhook(name="everything")
    offline_only = make_webhook(name="offline", alert_types=["OFFLINE"])
    critical_mail = make_email(min_severity="critical")
    make_webhook(name="paused", active=False)
    hot = make_alert(alert_type="HIGH_TEMP")
    back = make_alert(alert_type="ONLINE", payload={"offline_since": "2026-12-01T00:00:00.000Z"})

    assert notifications_enqueue(alerts=[hot, back], event="raised") == 3
    assert notifications_enqueue(alerts=[hot, back], event="raised") == 0
    rows = {(d.alert_id, d.webhook_id, d.email_id) for d in Delivery.objects.all()}
    assert rows == {(hot.id, everything.id, None), (back.id, everything.id, None), (hot.id, None, critical_mail.id)}
    assert offline_only.deliveries.count() == 0
    assert set(Delivery.objects.values_list("status", flat=True)) == {"pending"}
    # Clearing is another event of the same alert.
    assert notifications_enqueue(alerts=[hot], event="cleared") == 2


def test_an_enqueue_in_a_rolled_back_transaction_leaves_nothing_to_send():
    make_webhook()
    with pytest.raises(RuntimeError), transaction.atomic():
        alert = make_alert()
        assert notifications_enqueue(alerts=[alert], event="raised") == 1
        raise RuntimeError("the pass failed after enqueueing")
    assert Delivery.objects.count() == 0


def test_enqueue_refuses_an_unknown_event():
    with pytest.raises(ValueError, match="event"):
        notifications_enqueue(alerts=[], event="acknowledged")


def test_a_leased_delivery_cannot_be_claimed_again_until_its_lease_expires():
    make_webhook()
    notifications_enqueue(alerts=[make_alert()], event="raised")
    delivery = Delivery.objects.get()
    now = timezone.now()
    assert delivery_claim(delivery.pk, now=now)
    assert not delivery_claim(delivery.pk, now=now + timedelta(seconds=29))
    assert delivery_claim(delivery.pk, now=now + timedelta(seconds=31))


def test_a_webhook_gets_the_alert_as_the_api_serializes_it_signed_and_a_500_is_retried_with_backoff(settings):
    settings.NOTIFY_RETRY_BASE_SECONDS = 0.2
    with Receiver(WEBHOOK_SECRET, fail_first=1) as receiver:
        make_webhook(receiver.url)
        alert = make_alert()
        notifications_enqueue(alerts=[alert], event="raised")
        drain = DeliveryDrain(poll_seconds=0.05)
        drain.run_until_idle()
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
        assert delivery.last_error.startswith("HTTP 500")
        assert delivery.next_attempt_at > timezone.now() - timedelta(seconds=1)

        Delivery.objects.update(next_attempt_at=timezone.now())
        drain.run_until_idle()
        drain.close()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 2, 200)
    assert delivery.delivered_at is not None and delivery.leased_until is None
    assert receiver.bad_signatures == 0
    assert [r["delivery"] for r in receiver.requests] == [str(delivery.uuid)] * 2
    assert receiver.accepted_bodies() == [{**json.loads(json.dumps(AlertSerializer(alert).data)), "event": "raised"}]


def test_a_slack_webhook_gets_a_text_message():
    with Receiver(WEBHOOK_SECRET) as receiver:
        make_webhook(receiver.url, body_format="slack")
        notifications_enqueue(alerts=[make_alert("boiler")], event="raised")
        drain = DeliveryDrain()
        drain.run_until_idle()
        drain.close()
    [body] = receiver.accepted_bodies()
    assert list(body) == ["text"]
    assert "[CRITICAL] HIGH_TEMP raised on boiler: temperature 31.5 °C above the 30.0 °C threshold" in body["text"]


def test_a_refused_connection_is_a_failed_attempt_and_a_delivery_past_the_retry_window_fails(settings):
    make_webhook("http://127.0.0.1:9/hook")  # the discard port: nothing listens
    notifications_enqueue(alerts=[make_alert()], event="raised")
    drain = DeliveryDrain()
    drain.run_until_idle()
    drain.close()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert "refused" in delivery.last_error.lower()

    Delivery.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert deliveries_expire(now=timezone.now()) == 1
    delivery.refresh_from_db()
    assert delivery.status == "failed"


def test_the_last_attempt_of_the_day_marks_the_delivery_failed(settings):
    make_webhook("http://127.0.0.1:9/hook")
    notifications_enqueue(alerts=[make_alert()], event="raised")
    Delivery.objects.update(created_at=timezone.now() - timedelta(hours=23, minutes=59, seconds=58))
    drain = DeliveryDrain()
    drain.run_until_idle()
    drain.close()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1)


def test_an_email_subscription_gets_a_message_through_djangos_backend(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFY_FROM_EMAIL = "alerts@telemetry.example"
    make_email(["a@example.com", "b@example.com"])
    alert = make_alert(alert_type="OFFLINE", payload={"last_seen": "2026-12-01T10:00:00.000Z"})
    notifications_enqueue(alerts=[alert], event="raised")
    drain = DeliveryDrain()
    drain.run_until_idle()
    drain.run_until_idle()  # nothing is sent twice
    drain.close()
    [message] = mail.outbox
    assert message.to == ["a@example.com", "b@example.com"]
    assert message.from_email == "alerts@telemetry.example"
    assert message.subject == "[telemetry] [CRITICAL] OFFLINE raised on device-001: silent since 2026-12-01T10:00:00.000Z"
    assert f'"id": {alert.id}' in message.body and '"event": "raised"' in message.body
    assert Delivery.objects.get().status == "delivered"


def test_a_failing_mail_server_is_retried(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    make_email()
    notifications_enqueue(alerts=[make_alert()], event="raised")
    drain = DeliveryDrain()
    drain.run_until_idle()
    drain.close()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "refused" in delivery.last_error.lower()


def test_finished_deliveries_older_than_the_retention_are_pruned_and_pending_ones_kept():
    make_webhook()
    alerts = [make_alert(f"d{i}") for i in range(4)]
    notifications_enqueue(alerts=alerts, event="raised")
    rows = list(Delivery.objects.order_by("id"))
    old = timezone.now() - timedelta(days=31)
    for row, status in zip(rows, ["delivered", "failed", "pending", "delivered"]):
        Delivery.objects.filter(pk=row.pk).update(status=status, created_at=old if row != rows[-1] else timezone.now())
    assert deliveries_prune(now=timezone.now(), retention_days=0) == 0
    assert deliveries_prune(now=timezone.now(), retention_days=30, batch_rows=1) == 1
    assert deliveries_prune(now=timezone.now(), retention_days=30) == 1
    assert sorted(Delivery.objects.values_list("status", flat=True)) == ["delivered", "pending"]
