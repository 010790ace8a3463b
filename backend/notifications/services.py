"""Writes of the notifications app: the outbox (enqueue), leases, and the outcome of each attempt."""
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from notifications import backoff
from notifications.models import Delivery
from notifications.selectors import subscriptions_active, subscriptions_wanting
from notifications.severity import CLEARED, RAISED


# A claimed delivery belongs to its worker this long; it must outlast one attempt
# (NOTIFY_WEBHOOK_TIMEOUT_SECONDS, at most 10 s). A killed worker's claims expire after it.
LEASE = timedelta(seconds=30)


def notifications_enqueue(*, alerts, event: str) -> int:
    """Create one pending delivery per matching subscription and alert; return how many are new.

    Call it inside the transaction that raised or cleared the alerts: a rolled-back
    pass then sends nothing, a committed one always has its deliveries. Repeating it
    (after a crash, or from two workers) adds nothing: (subscription, alert, event) is unique.
    """
    if event not in (RAISED, CLEARED):
        raise ValueError(f"event must be {RAISED!r} or {CLEARED!r}, not {event!r}")
    alerts = list(alerts)
    webhooks, emails = subscriptions_active()
    if not alerts or not (webhooks or emails):
        return 0
    now = timezone.now()
    rows = []
    for alert in alerts:
        rows += [Delivery(webhook=hook, alert=alert, event=event, next_attempt_at=now)
                 for hook in subscriptions_wanting(alert, webhooks)]
        rows += [Delivery(email=email, alert=alert, event=event, next_attempt_at=now)
                 for email in subscriptions_wanting(alert, emails)]
    if not rows:
        return 0
    alert_ids = {row.alert_id for row in rows}
    before = Delivery.objects.filter(alert__in=alert_ids, event=event).count()
    Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return Delivery.objects.filter(alert__in=alert_ids, event=event).count() - before


def delivery_claim(delivery_id: int, *, now: datetime) -> bool:
    """Take the lease of a pending delivery (compare-and-set); False when another worker holds it."""
    free = Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    return bool(Delivery.objects.filter(free, pk=delivery_id, status=Delivery.Status.PENDING)
                .update(leased_until=now + LEASE))


def delivery_succeeded(delivery_id: int, *, status_code: int | None) -> None:
    """Record the delivery as done, right after the receiver's 2xx (or the mail server's acceptance)."""
    now = timezone.now()
    Delivery.objects.filter(pk=delivery_id).update(
        status=Delivery.Status.DELIVERED, delivered_at=now, attempts=F("attempts") + 1,
        last_status_code=status_code, last_error="", leased_until=None,
    )


def delivery_attempt_failed(delivery: Delivery, *, error: str, status_code: int | None) -> str:
    """Record a failed attempt: schedule the next one with backoff, or give up after NOTIFY_RETRY_HOURS."""
    now = timezone.now()
    attempts = delivery.attempts + 1
    retry_at = backoff.next_attempt_at(
        now=now, created_at=delivery.created_at, attempts=attempts,
        base_seconds=settings.NOTIFY_RETRY_BASE_SECONDS, max_seconds=settings.NOTIFY_RETRY_MAX_SECONDS,
        retry_for=timedelta(hours=settings.NOTIFY_RETRY_HOURS),
    )
    status = Delivery.Status.PENDING if retry_at else Delivery.Status.FAILED
    # Never over a delivery another worker has completed meanwhile.
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING).update(
        status=status, attempts=attempts, last_error=error[:1000], last_status_code=status_code,
        next_attempt_at=retry_at or now, leased_until=None,
    )
    return status


# Rows per DELETE of the log's pruning: short statements that never hold SQLite's lock for long.
PRUNE_BATCH_ROWS = 2000


def deliveries_prune(*, now: datetime, retention_days: int, batch_rows: int = PRUNE_BATCH_ROWS) -> int:
    """Delete delivered and failed deliveries older than `retention_days` (0 keeps them), one batch."""
    if retention_days == 0:
        return 0
    old = Delivery.objects.filter(created_at__lt=now - timedelta(days=retention_days)).exclude(
        status=Delivery.Status.PENDING).order_by("created_at").values("pk")[:batch_rows]
    return Delivery.objects.filter(pk__in=old).delete()[0]


def deliveries_expire(*, now: datetime) -> int:
    """Mark failed the pending deliveries older than NOTIFY_RETRY_HOURS (e.g. of a subscription left inactive)."""
    cutoff = now - timedelta(hours=settings.NOTIFY_RETRY_HOURS)
    free = Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    return Delivery.objects.filter(free, status=Delivery.Status.PENDING, created_at__lt=cutoff).update(
        status=Delivery.Status.FAILED, last_error="not delivered within NOTIFY_RETRY_HOURS", leased_until=None,
    )


def enqueue_changed_alerts(sender, *, raised, cleared, **kwargs) -> None:
    """Receiver of alerts.services.alerts_changed: the deliveries of a pass's raised and cleared alerts."""
    if raised:
        notifications_enqueue(alerts=raised, event=RAISED)
    if cleared:
        notifications_enqueue(alerts=cleared, event=CLEARED)
