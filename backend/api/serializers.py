"""Response shapes of the API (docs/api.md; the rules in docs/contract.md, "REST API")."""
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from alerts.models import Alert
from common.timefmt import iso_utc
from devices.models import Device


class UtcDateTimeField(serializers.DateTimeField):
    def to_representation(self, value):
        return None if value is None else iso_utc(value)


class LatestReadingSerializer(serializers.Serializer):
    ts = UtcDateTimeField()
    temperature = serializers.FloatField(allow_null=True)
    humidity = serializers.FloatField(allow_null=True)


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


class ConfigSerializer(serializers.Serializer):
    high_temp_threshold = serializers.FloatField()
    offline_after_seconds = serializers.FloatField()


class HighTempPayloadSerializer(serializers.Serializer):
    temperature = serializers.FloatField()
    threshold = serializers.FloatField()
    # Optional: the worker always writes it, but an alert added another way (the admin) may lack it.
    ts = UtcDateTimeField(required=False, help_text="The reading's time.")


class OfflinePayloadSerializer(serializers.Serializer):
    last_seen = UtcDateTimeField()


class OnlinePayloadSerializer(serializers.Serializer):
    offline_since = UtcDateTimeField()


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="AlertPayload",
        serializers=[HighTempPayloadSerializer, OfflinePayloadSerializer, OnlinePayloadSerializer],
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


class HealthSerializer(serializers.Serializer):
    # "unhealthy" only with the 503 of an unreachable database.
    status = serializers.ChoiceField(choices=["healthy", "degraded", "unhealthy"])
    database = serializers.ChoiceField(choices=["connected", "disconnected"])
    mqtt = serializers.ChoiceField(choices=["connected", "disconnected"])
    worker = serializers.ChoiceField(choices=["running", "stopped"])
    timestamp = UtcDateTimeField()
