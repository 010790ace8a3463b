"""Reads of the notifications app."""
from datetime import datetime

from django.db.models import Q, QuerySet

from notifications.matching import subscription_wants
from notifications.models import Delivery, EmailSubscription, WebhookSubscription
from notifications.severity import alert_severity


def subscriptions_active() -> tuple[list[WebhookSubscription], list[EmailSubscription]]:
    """Every active webhook and e-mail subscription (a handful: read once per enqueue)."""
    return list(WebhookSubscription.objects.filter(active=True)), list(EmailSubscription.objects.filter(active=True))


def subscriptions_wanting(alert, subscriptions: list) -> list:
    """Those of `subscriptions` whose filters let this alert through."""
    severity = alert_severity(alert)
    return [
        subscription for subscription in subscriptions
        if subscription_wants(alert_types=subscription.alert_types, min_severity=subscription.min_severity,
                              alert_type=alert.alert_type, severity=severity)
    ]


def deliveries_due(*, now: datetime, limit: int, busy_webhooks=(), busy_emails=()) -> QuerySet:
    """Pending deliveries whose time has come and whose lease (if any) has expired, oldest due first.

    Subscriptions that are inactive or already have a delivery in flight are skipped.
    """
    return (
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .filter(Q(webhook__active=True) | Q(email__active=True))
        .exclude(webhook_id__in=list(busy_webhooks))
        .exclude(email_id__in=list(busy_emails))
        .order_by("next_attempt_at", "id")[:limit]
    )
