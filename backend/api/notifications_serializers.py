"""Shapes of the notification subscriptions in the API (docs/notifications.md); staff only."""
from rest_framework import serializers

from common.fields import UtcDateTimeField
from notifications.models import EmailSubscription, WebhookSubscription, http_url_validator
from notifications.severity import SEVERITIES, known_alert_types


class _SubscriptionSerializer(serializers.ModelSerializer):
    alert_types = serializers.ListField(child=serializers.ChoiceField(choices=known_alert_types()), required=False,
                                        max_length=20)
    min_severity = serializers.ChoiceField(choices=SEVERITIES, required=False)
    created_at = UtcDateTimeField(read_only=True)

    def validate_alert_types(self, value):
        return sorted(set(value))


class WebhookSubscriptionSerializer(_SubscriptionSerializer):
    url = serializers.URLField(max_length=2000, validators=[http_url_validator])
    # Written, never read back: it signs every delivery.
    secret = serializers.CharField(write_only=True, min_length=16, max_length=200, trim_whitespace=False)

    class Meta:
        model = WebhookSubscription
        fields = ["id", "name", "url", "secret", "body_format", "alert_types", "min_severity", "active", "created_at"]
        read_only_fields = ["id", "created_at"]


class EmailSubscriptionSerializer(_SubscriptionSerializer):
    recipients = serializers.ListField(child=serializers.EmailField(), min_length=1, max_length=50)

    class Meta:
        model = EmailSubscription
        fields = ["id", "name", "recipients", "alert_types", "min_severity", "active", "created_at"]
        read_only_fields = ["id", "created_at"]
