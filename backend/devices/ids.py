"""The device-id rule: which strings may name a device, in a topic, the API and the registry."""
import re

from django.core.exceptions import ValidationError

DEVICE_ID_MAX_LENGTH = 64
DEVICE_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def is_device_id(value: str) -> bool:
    """Whether the whole of `value` is a valid device id."""
    return DEVICE_ID_PATTERN.fullmatch(value) is not None


def validate_device_id(value: str) -> None:
    """Django validator: raise ValidationError unless `value` is a valid device id."""
    if not is_device_id(value):
        raise ValidationError(
            "A device id is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.",
            code="invalid_device_id",
        )
