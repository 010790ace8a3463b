"""Bodies the device endpoints accept: registering a device and changing it."""
from rest_framework import serializers

from api.params import DeviceIdField


def _has_nul(value) -> bool:
    """Whether a JSON value holds U+0000 in a key or a string anywhere (PostgreSQL's jsonb cannot)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and "\x00" in item:
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class DeviceFieldsSerializer(serializers.Serializer):
    """The fields a staff user sets on a device; unknown fields are refused, so a typo is not lost."""

    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    device_type = serializers.CharField(required=False, allow_blank=True, max_length=100)
    location = serializers.CharField(required=False, allow_blank=True, max_length=200)
    metadata = serializers.DictField(required=False, help_text="A JSON object of free-form attributes.")

    def validate_metadata(self, value: dict) -> dict:
        if _has_nul(value):
            raise serializers.ValidationError("must not contain U+0000")
        return value

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["the body must be a JSON object"]})
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({unknown[0]: "unknown field, or not one that can be set"})
        return super().to_internal_value(data)


class DeviceCreateSerializer(DeviceFieldsSerializer):
    device_id = DeviceIdField()

