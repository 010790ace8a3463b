"""Who is told about alerts (webhook and e-mail subscriptions), and the outbox of deliveries to them."""
import uuid

from django.core.validators import URLValidator
from django.db import models

from alerts.models import Alert
from notifications.severity import EVENT_CHOICES, INFO, SEVERITY_CHOICES

http_url_validator = URLValidator(schemes=["http", "https"], message="Enter an http or https URL.")


class Subscription(models.Model):
    """What every subscription filters on: alert types (empty: all) and a minimum severity."""

    name = models.CharField(max_length=100)
    alert_types = models.JSONField(default=list, blank=True, help_text="Alert types to send; empty sends every type.")
    min_severity = models.CharField(max_length=8, choices=SEVERITY_CHOICES, default=INFO)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class WebhookSubscription(Subscription):
    """An HTTP endpoint that receives each matching alert as a signed POST."""

    class Format(models.TextChoices):
        JSON = "json"
        SLACK = "slack"

    url = models.URLField(max_length=2000, validators=[http_url_validator])
    secret = models.CharField(max_length=200, help_text="Key of the HMAC-SHA256 signature; never shown again.")
    body_format = models.CharField(max_length=8, choices=Format.choices, default=Format.JSON)


class EmailSubscription(Subscription):
    """A list of addresses that receive each matching alert by e-mail."""

    recipients = models.JSONField(default=list, help_text="E-mail addresses.")


class Delivery(models.Model):
    """One alert event to one subscription: the outbox row, and its log once tried."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    # Sent as X-Telemetry-Delivery, so a receiver can drop a repeat.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    webhook = models.ForeignKey(WebhookSubscription, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="deliveries")
    email = models.ForeignKey(EmailSubscription, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="deliveries")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=8, choices=EVENT_CHOICES)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField()
    # A worker that claimed the row owns it until then; a killed worker's claim expires.
    leased_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-id"]
        constraints = [
            # NULLs are distinct, so each holds for its own kind of subscription only.
            models.UniqueConstraint(fields=["webhook", "alert", "event"], name="delivery_once_per_webhook"),
            models.UniqueConstraint(fields=["email", "alert", "event"], name="delivery_once_per_email"),
            models.CheckConstraint(
                condition=models.Q(webhook__isnull=False, email__isnull=True)
                | models.Q(webhook__isnull=True, email__isnull=False),
                name="delivery_one_subscription",
            ),
        ]
        indexes = [
            # The drain's query: pending rows that are due.
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"), name="delivery_due"),
            # The log's pruning and the admin's date filter.
            models.Index(fields=["created_at"], name="delivery_created"),
        ]

    @property
    def subscription(self) -> Subscription:
        return self.webhook or self.email

    def __str__(self) -> str:
        return f"{self.alert} {self.event} -> {self.subscription} ({self.status})"
