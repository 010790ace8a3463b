"""An alert as the API returns it and a notification sends it (docs/api.md, docs/notifications.md)."""
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from alerts.models import Alert
from common.fields import UtcDateTimeField

RULE_SOURCES = ["device", "device_type", "default"]


class HighTempPayloadSerializer(serializers.Serializer):
    temperature = serializers.FloatField()
    threshold = serializers.FloatField()
    # Optional: the worker always writes them, but alerts raised before rules could be
    # tuned, or added another way, may lack them.
    hysteresis = serializers.FloatField(required=False, help_text="°C below the threshold that end the episode.")
    source = serializers.ChoiceField(choices=RULE_SOURCES, required=False, help_text="Where the rule was set.")
    ts = UtcDateTimeField(required=False, help_text="The reading's time.")


class OfflinePayloadSerializer(serializers.Serializer):
    last_seen = UtcDateTimeField()
    offline_after_seconds = serializers.FloatField(required=False, help_text="The silence allowed.")
    source = serializers.ChoiceField(choices=RULE_SOURCES, required=False, help_text="Where the rule was set.")


class LowBatteryPayloadSerializer(serializers.Serializer):
    battery = serializers.FloatField()
    threshold = serializers.FloatField(help_text="Percent; a battery below it is low.")
    hysteresis = serializers.FloatField(help_text="Points above the threshold that end the episode.")
    source = serializers.ChoiceField(choices=RULE_SOURCES, help_text="Where the rule was set.")
    ts = UtcDateTimeField(help_text="The reading's time.")


class AnomalyPayloadSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=["temperature", "humidity"])
    value = serializers.FloatField()
    z = serializers.FloatField(help_text="Standard deviations from the device's recent mean.")
    mean = serializers.FloatField()
    std = serializers.FloatField()
    z_limit = serializers.FloatField(help_text="K: more standard deviations than this is anomalous.")
    source = serializers.ChoiceField(choices=RULE_SOURCES, help_text="Where K was set.")
    ts = UtcDateTimeField(help_text="The reading's time.")


class OnlinePayloadSerializer(serializers.Serializer):
    offline_since = UtcDateTimeField()


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="AlertPayload",
        serializers=[HighTempPayloadSerializer, OfflinePayloadSerializer, OnlinePayloadSerializer,
                     LowBatteryPayloadSerializer, AnomalyPayloadSerializer],
        resource_type_field_name=None,
    )
)
class AlertPayloadField(serializers.JSONField):
    """The payload stored with the alert, as alerts.rules wrote it; its shape depends on alert_type."""


class AlertSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    device_id = serializers.CharField()
    alert_type = serializers.ChoiceField(choices=Alert.Type.choices)
    ts = UtcDateTimeField()
    payload = AlertPayloadField()
    severity = serializers.ChoiceField(choices=Alert.Severity.choices)
    status = serializers.ChoiceField(choices=Alert.Status.choices, help_text="ACTIVE until the condition ends.")
    cleared_at = UtcDateTimeField(allow_null=True, help_text="When the condition ended; null while ACTIVE.")
    acknowledged_at = UtcDateTimeField(allow_null=True, help_text="When a staff user first acknowledged it.")
    acknowledged_by = serializers.CharField(
        source="acknowledged_by.username", allow_null=True, help_text="Who first acknowledged it (username)."
    )
