"""Response shapes of the API (docs/contract.md, "REST API")."""
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
            "latest": None if latest is None else {
                "ts": iso_utc(latest["ts"]),
                "temperature": latest["temperature"],
                "humidity": latest["humidity"],
            },
        }


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


class AlertSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    device_id = serializers.CharField()
    alert_type = serializers.ChoiceField(choices=Alert.Type.choices)
    ts = UtcDateTimeField()
    payload = serializers.JSONField()


class HealthSerializer(serializers.Serializer):
    # "unhealthy" only with the 503 of an unreachable database.
    status = serializers.ChoiceField(choices=["healthy", "degraded", "unhealthy"])
    database = serializers.ChoiceField(choices=["connected", "disconnected"])
    mqtt = serializers.ChoiceField(choices=["connected", "disconnected"])
    worker = serializers.ChoiceField(choices=["running", "stopped"])
    timestamp = UtcDateTimeField()
