"""Parameters and shapes of the data-access endpoints: the export and the rejections list."""
from rest_framework import serializers

from api.params import DeviceIdField, TimestampField
from common.fields import UtcDateTimeField
from telemetry.export import FORMATS

REJECTIONS_MAX_LIMIT = 1_000
REJECTION_PAYLOAD_CHARS = 1_000
REASON_KIND_MAX_LENGTH = 100


class ExportFormatField(serializers.ChoiceField):
    default_error_messages = {"invalid_choice": "unknown format {input!r}; one of: " + ", ".join(FORMATS)}

    def __init__(self, **kwargs):
        super().__init__(choices=list(FORMATS), **kwargs)


class ExportParams(serializers.Serializer):
    deviceId = DeviceIdField(required=False, help_text="Required unless the caller is staff (the whole fleet).")
    since = TimestampField(required=False)
    until = TimestampField(required=False)
    format = ExportFormatField(default="csv")

    def validate(self, attrs):
        if "since" in attrs and "until" in attrs and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"since": "since is after until"})
        return attrs


class RejectionParams(serializers.Serializer):
    deviceId = DeviceIdField(required=False)
    # parse_message's longest kind has 66 characters; the bound keeps the query string short.
    reason = serializers.CharField(
        max_length=REASON_KIND_MAX_LENGTH, required=False,
        help_text="A reason kind: the reason up to its first ': ' (`invalid JSON` matches `invalid JSON: ...`).",
    )
    limit = serializers.IntegerField(min_value=1, max_value=REJECTIONS_MAX_LIMIT, default=50)


class RejectionSerializer(serializers.Serializer):
    received_at = UtcDateTimeField()
    topic = serializers.CharField()
    device_id = serializers.CharField(allow_null=True, help_text="The device id in the topic; null when it has none.")
    reason = serializers.CharField()
    payload = serializers.CharField(help_text=f"The stored payload's first {REJECTION_PAYLOAD_CHARS:,} characters.")

    def to_representation(self, row):
        return {
            "received_at": UtcDateTimeField().to_representation(row.received_at),
            "topic": row.topic,
            "device_id": row.device_id or None,
            "reason": row.reason,
            "payload": row.payload[:REJECTION_PAYLOAD_CHARS],
        }
