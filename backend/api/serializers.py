"""Response shapes of the API (docs/api.md; the rules in docs/contract.md, "REST API")."""
import math

from rest_framework import serializers

# The alert's shape is the alerts app's (the notifications' bodies send it too); the API
# answers with it as one of its own.
from alerts.serializers import RULE_SOURCES, AlertSerializer  # noqa: F401
from common.fields import UtcDateTimeField
from common.timefmt import iso_utc
from devices.models import Device


class LatestReadingSerializer(serializers.Serializer):
    ts = UtcDateTimeField()
    temperature = serializers.FloatField(allow_null=True)
    humidity = serializers.FloatField(allow_null=True)
    battery = serializers.FloatField(allow_null=True, required=False)


class DeviceSerializer(serializers.Serializer):
    device_id = serializers.CharField()
    status = serializers.ChoiceField(choices=Device.Status.choices)
    last_seen = UtcDateTimeField(allow_null=True)
    name = serializers.CharField()
    device_type = serializers.CharField()
    location = serializers.CharField()
    metadata = serializers.DictField(help_text="Free-form attributes of the device; {} when unset.")
    latest = LatestReadingSerializer(allow_null=True)

    def to_representation(self, row: dict) -> dict:
        # The fields above define the shape (and the OpenAPI schema, which the schema
        # test holds responses to); building it directly is ten times faster than field
        # by field, and the devices list returns a row per device every 3 s.
        latest = row["latest"]
        return {
            "device_id": row["device_id"],
            "status": row["status"],
            "last_seen": None if row["last_seen"] is None else iso_utc(row["last_seen"]),
            "name": row["name"],
            "device_type": row["device_type"],
            "location": row["location"],
            "metadata": row["metadata"] or {},
            "latest": None if latest is None else {
                "ts": iso_utc(latest["ts"]),
                "temperature": latest["temperature"],
                "humidity": latest["humidity"],
                "battery": latest["battery"],
            },
        }


class RegisteredDeviceSerializer(DeviceSerializer):
    api_key = serializers.CharField(help_text="The device's API key for X-API-Key; shown only in this response.")

    def to_representation(self, row: dict) -> dict:
        return {**super().to_representation(row), "api_key": row["api_key"]}


class RotatedKeySerializer(serializers.Serializer):
    device_id = serializers.CharField()
    api_key = serializers.CharField(help_text="The new API key, shown only in this response; the old one no "
                                              "longer works.")


class IngestErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the reading in the array (0 for a single reading).")
    reason = serializers.CharField()


class IngestResultSerializer(serializers.Serializer):
    stored = serializers.IntegerField(help_text="New readings stored.")
    duplicates = serializers.IntegerField(help_text="Readings whose (device, ts) was stored already.")
    rejected = serializers.IntegerField(help_text="Readings refused; each is in errors.")
    errors = IngestErrorSerializer(many=True)


class TelemetrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    device_id = serializers.CharField()
    ts = UtcDateTimeField()
    temperature = serializers.FloatField(allow_null=True)
    humidity = serializers.FloatField(allow_null=True)


class WindowStatsSerializer(serializers.Serializer):
    device_id = serializers.CharField()
    window = serializers.CharField()
    avg_temperature = serializers.FloatField(allow_null=True)
    avg_humidity = serializers.FloatField(allow_null=True)
    data_points = serializers.IntegerField()


class SeriesPointSerializer(serializers.Serializer):
    ts = UtcDateTimeField()
    temperature = serializers.FloatField(allow_null=True)
    humidity = serializers.FloatField(allow_null=True)
    count = serializers.IntegerField()


class SeriesSerializer(serializers.Serializer):
    device_id = serializers.CharField()
    window = serializers.CharField()
    bucket_seconds = serializers.IntegerField()
    points = SeriesPointSerializer(many=True)


class DeviceWindowStatsSerializer(serializers.Serializer):
    device_id = serializers.CharField()
    avg_temperature = serializers.FloatField(allow_null=True)
    avg_humidity = serializers.FloatField(allow_null=True)
    data_points = serializers.IntegerField()


class ViewerSerializer(serializers.Serializer):
    username = serializers.CharField()
    is_staff = serializers.BooleanField()


class IngestRateSerializer(serializers.Serializer):
    minute = UtcDateTimeField(help_text="The start of a UTC minute.")
    stored = serializers.IntegerField(help_text="Readings stored in that minute (by receive time).")


class FleetSummarySerializer(serializers.Serializer):
    devices = serializers.IntegerField(help_text="Devices not decommissioned.")
    online = serializers.IntegerField()
    offline = serializers.IntegerField()
    alerts_active = serializers.IntegerField(help_text="Alerts in status ACTIVE.")


class ConfigSerializer(serializers.Serializer):
    high_temp_threshold = serializers.FloatField()
    offline_after_seconds = serializers.FloatField()
    user = ViewerSerializer(
        allow_null=True, help_text="Who the request is signed in as (session or token), null when anonymous."
    )


class RuleValuesSerializer(serializers.Serializer):
    """The tunable thresholds; null inherits (a device from its type, a type from the default)."""

    high_temp_threshold = serializers.FloatField(
        allow_null=True, required=False, min_value=-100, max_value=200, help_text="°C; a reading above it is high."
    )
    high_temp_hysteresis = serializers.FloatField(
        allow_null=True, required=False, min_value=0, max_value=300,
        help_text="°C; an episode ends at a reading at or below threshold minus this.",
    )
    offline_after_seconds = serializers.FloatField(
        allow_null=True, required=False, min_value=0.1, max_value=31_536_000, help_text="Silence before OFFLINE."
    )
    low_battery_percent = serializers.FloatField(
        allow_null=True, required=False, min_value=0, max_value=100, help_text="A battery below it is low."
    )
    low_battery_hysteresis = serializers.FloatField(
        allow_null=True, required=False, min_value=0, max_value=100,
        help_text="Points; an episode ends at a battery at or above the level plus this.",
    )
    anomaly_z = serializers.FloatField(
        allow_null=True, required=False, min_value=0.1, max_value=1000,
        help_text="K: standard deviations from the recent mean that make a reading anomalous.",
    )

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["expected a JSON object"]})
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({unknown[0]: ["unknown field"]})
        values = super().to_internal_value(data)
        for name, value in values.items():
            if value is not None and not math.isfinite(value):
                raise serializers.ValidationError({name: ["must be a finite number"]})
        return values


class EffectiveValueSerializer(serializers.Serializer):
    value = serializers.FloatField()
    source = serializers.ChoiceField(choices=RULE_SOURCES)


class EffectiveRulesSerializer(serializers.Serializer):
    """The value in force for each threshold, and where it was set."""

    high_temp_threshold = EffectiveValueSerializer()
    high_temp_hysteresis = EffectiveValueSerializer()
    offline_after_seconds = EffectiveValueSerializer()
    low_battery_percent = EffectiveValueSerializer()
    low_battery_hysteresis = EffectiveValueSerializer()
    anomaly_z = EffectiveValueSerializer()


class DeviceTypeRuleSerializer(RuleValuesSerializer):
    device_type = serializers.CharField(read_only=True)
    effective = EffectiveRulesSerializer(read_only=True)


class DeviceRuleSerializer(RuleValuesSerializer):
    device_id = serializers.CharField(read_only=True)
    effective = EffectiveRulesSerializer(read_only=True)


class DefaultRulesSerializer(serializers.Serializer):
    """The environment's defaults (HIGH_TEMP_THRESHOLD, ...), which rules override."""

    high_temp_threshold = serializers.FloatField()
    high_temp_hysteresis = serializers.FloatField()
    offline_after_seconds = serializers.FloatField()
    low_battery_percent = serializers.FloatField()
    low_battery_hysteresis = serializers.FloatField()
    anomaly_z = serializers.FloatField()


class RulesSerializer(serializers.Serializer):
    defaults = DefaultRulesSerializer()
    device_types = DeviceTypeRuleSerializer(many=True, help_text="Every device type with a rule.")
    devices = DeviceRuleSerializer(many=True, help_text="Every device with a rule of its own.")


class HealthSerializer(serializers.Serializer):
    # "unhealthy" only with the 503 of an unreachable database.
    status = serializers.ChoiceField(choices=["healthy", "degraded", "unhealthy"])
    database = serializers.ChoiceField(choices=["connected", "disconnected"])
    mqtt = serializers.ChoiceField(choices=["connected", "disconnected"])
    worker = serializers.ChoiceField(choices=["running", "stopped"])
    timestamp = UtcDateTimeField()
