"""Subscriptions and alerts for notification tests."""
from django.utils import timezone

from alerts.models import Alert
from devices.models import Device
from notifications.models import EmailSubscription, WebhookSubscription

SECRET = "whsec_test_0123456789abcdef"


def make_alert(alert_type: str = "HIGH_TEMP", device_id: str = "device-001", payload=None) -> Alert:
    device, _ = Device.objects.get_or_create(device_id=device_id, defaults={"last_seen": timezone.now()})
    payload = payload if payload is not None else {"temperature": 31.5, "threshold": 30.0}
    return Alert.objects.create(device=device, alert_type=alert_type, ts=timezone.now(), payload=payload)


def make_webhook(url: str = "http://127.0.0.1:9/hook", **fields) -> WebhookSubscription:
    fields.setdefault("name", "ops")
    fields.setdefault("secret", SECRET)
    return WebhookSubscription.objects.create(url=url, **fields)


def make_email(recipients=("ops@example.com",), **fields) -> EmailSubscription:
    fields.setdefault("name", "on-call")
    return EmailSubscription.objects.create(recipients=list(recipients), **fields)
