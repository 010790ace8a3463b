"""Serializers that validate query parameters; their errors become 400s with a field."""
from datetime import UTC, datetime, timedelta

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alerts.models import Alert
from api.paging import PageParams
from devices.ids import DEVICE_ID_MAX_LENGTH, DEVICE_ID_PATTERN, is_device_id
from devices.models import Device
from telemetry.windows import WINDOW_DESCRIPTION, WINDOW_SCHEMA_PATTERN, format_window, parse_window

TELEMETRY_MAX_LIMIT = 10_000
ALERTS_MAX_LIMIT = 1_000
SERIES_MIN_POINTS = 10
SERIES_MAX_POINTS = 1_000


@extend_schema_field(
    {
        "type": "string",
        "pattern": f"^{DEVICE_ID_PATTERN.pattern}$",
        "maxLength": DEVICE_ID_MAX_LENGTH,
        "example": "device-001",
    }
)
class DeviceIdField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(max_length=DEVICE_ID_MAX_LENGTH, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not is_device_id(value):
            raise serializers.ValidationError("not a valid device id")
        return value


@extend_schema_field(
    {
        "type": "string",
        "description": "ISO 8601 (UTC when no zone is given) or epoch milliseconds; inclusive.",
        "example": "2026-01-01T00:00:00Z",
    }
)
class TimestampField(serializers.Field):
    """ISO 8601 (UTC when no zone is given) or epoch milliseconds."""

    default_error_messages = {"invalid": "must be an ISO 8601 timestamp or epoch milliseconds"}

    def to_internal_value(self, data):
        text = str(data).strip()
        try:
            if text.lstrip("-").isdigit():
                return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
            parsed = datetime.fromisoformat(text)
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        except (ValueError, OverflowError, OSError):
            self.fail("invalid")


@extend_schema_field(
    {
        "type": "string",
        "pattern": WINDOW_SCHEMA_PATTERN,
        "description": WINDOW_DESCRIPTION,
        "example": "5m",
    }
)
class WindowField(serializers.CharField):
    """A window like `5m`, `24h`, `7d` (at most 30d), as a timedelta."""

    def to_internal_value(self, data):
        try:
            return parse_window(super().to_internal_value(data))
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None

    def to_representation(self, value):
        """A timedelta back in the parameter's own form (`5m`), e.g. for a documented default."""
        return format_window(value)


class UpperChoiceField(serializers.ChoiceField):
    """A choice matched without regard to case."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "Case-insensitive.")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(str(data).upper())


class LowerChoiceField(serializers.ChoiceField):
    """A lower-case choice matched without regard to case."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "Case-insensitive.")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(str(data).lower())


@extend_schema_field({"type": "boolean", "description": "`true` or `false`, case-insensitive."})
class StrictBooleanField(serializers.Field):
    """`true` or `false` (any case), nothing else: a typo is a 400, not a silent false."""

    default_error_messages = {"invalid": "must be true or false"}

    def to_internal_value(self, data):
        text = str(data).strip().lower()
        if text not in ("true", "false"):
            self.fail("invalid")
        return text == "true"

    def to_representation(self, value):
        return value


# The device list's filters; the fleet stats take the same, to page over the same devices.
DEVICE_FILTERS = ("status", "search", "device_type", "location")


class DeviceListParams(PageParams):
    status = UpperChoiceField(choices=Device.Status.choices, required=False)
    search = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                   help_text="A prefix of the device id or of the name (case included).")
    device_type = serializers.CharField(required=False, max_length=100, help_text="Exact match.")
    location = serializers.CharField(required=False, max_length=200, help_text="Exact match.")


class DeviceDeleteParams(serializers.Serializer):
    purge = serializers.BooleanField(
        default=False, help_text="Also delete the device's readings and alerts, in the background."
    )


class TelemetryParams(serializers.Serializer):
    deviceId = DeviceIdField()
    limit = serializers.IntegerField(min_value=1, max_value=TELEMETRY_MAX_LIMIT, default=100)
    since = TimestampField(required=False)
    until = TimestampField(required=False)

    def validate(self, attrs):
        if "since" in attrs and "until" in attrs and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"since": "since is after until"})
        return attrs


class StatsParams(serializers.Serializer):
    deviceId = DeviceIdField()
    window = WindowField()


class SeriesParams(serializers.Serializer):
    deviceId = DeviceIdField()
    window = WindowField()
    points = serializers.IntegerField(min_value=SERIES_MIN_POINTS, max_value=SERIES_MAX_POINTS, default=300)


class FleetStatsParams(DeviceListParams):
    window = WindowField(default=timedelta(minutes=5))


class AlertParams(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=ALERTS_MAX_LIMIT, default=50)
    deviceId = DeviceIdField(required=False)
    alert_type = UpperChoiceField(choices=Alert.Type.choices, required=False)
    status = UpperChoiceField(choices=Alert.Status.choices, required=False)
    acknowledged = StrictBooleanField(required=False, help_text="Only acknowledged (true) or unacknowledged (false) alerts.")
    severity = LowerChoiceField(choices=Alert.Severity.choices, required=False)
