"""Pure validation of one MQTT message against the payload rules (docs/contract.md, "MQTT").

`parse_message` never raises: it returns a `Reading` or a `Rejection` with a reason.
"""
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson

from devices.ids import is_device_id

MAX_PAYLOAD_BYTES = 64 * 1024
TOPIC_PATTERN = re.compile(r"devices/([^/]+)/telemetry")

EPOCH_SECONDS_BELOW = 100_000_000_000
EARLIEST_TS = datetime(2000, 1, 1, tzinfo=UTC)
MAX_FUTURE = timedelta(minutes=5)

METRIC_RANGES = {
    "temperature": (-100.0, 200.0),
    "humidity": (0.0, 100.0),
    "battery": (0.0, 100.0),
}
RESERVED_KEYS = {"deviceId", "device_id", "ts", "timestamp", *METRIC_RANGES}
# What `extra` keeps of a reading's other numeric fields: the first MAX_EXTRA_KEYS in
# payload order, each name at most MAX_EXTRA_KEY_LENGTH characters (longer names are
# dropped, not cut, so two fields never collide). A 64 KiB payload could otherwise
# store thousands of keys per row.
MAX_EXTRA_KEYS = 32
MAX_EXTRA_KEY_LENGTH = 64


@dataclass(frozen=True, slots=True)
class Reading:
    """A valid reading, ready to store."""

    device_id: str
    ts: datetime
    temperature: float | None
    humidity: float | None
    battery: float | None
    extra: dict | None


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a message is not a reading."""

    reason: str


class _Invalid(Exception):
    pass


def device_id_from_topic(topic: str) -> str | None:
    """The device id of a `devices/{id}/telemetry` topic, or None for any other topic."""
    match = TOPIC_PATTERN.fullmatch(topic)
    if match is None or not is_device_id(match.group(1)):
        return None
    return match.group(1)


def parse_message(topic: str, payload: bytes, received_at: datetime) -> Reading | Rejection:
    """Validate one message; `received_at` is the server's receive time (aware, UTC)."""
    try:
        return _parse(topic, payload, received_at)
    except _Invalid as invalid:
        return Rejection(str(invalid))


def _parse(topic: str, payload: bytes, received_at: datetime) -> Reading:
    device_id = device_id_from_topic(topic)
    if device_id is None:
        raise _Invalid("topic is not devices/{deviceId}/telemetry with a valid device id")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise _Invalid(f"payload larger than {MAX_PAYLOAD_BYTES} bytes")
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError as error:
        raise _Invalid(f"invalid JSON: {error}") from None
    if not isinstance(document, dict):
        raise _Invalid("payload is not a JSON object")

    for key in ("deviceId", "device_id"):
        claimed = document.get(key)
        if claimed is not None and claimed != device_id:
            raise _Invalid(f"{key} does not match the topic's device id")

    metrics = {name: _metric(document, name, low, high) for name, (low, high) in METRIC_RANGES.items()}
    if metrics["temperature"] is None and metrics["humidity"] is None:
        raise _Invalid("no metric: temperature or humidity is required")

    return Reading(
        device_id=device_id,
        ts=_timestamp(document, received_at),
        temperature=metrics["temperature"],
        humidity=metrics["humidity"],
        battery=metrics["battery"],
        extra=_extra(document),
    )


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _metric(document: dict, name: str, low: float, high: float) -> float | None:
    value = document.get(name)
    if value is None:
        return None
    if not _is_number(value):
        raise _Invalid(f"{name} is not a number")
    value = float(value)
    if not math.isfinite(value) or not low <= value <= high:
        raise _Invalid(f"{name} out of range {low:g}..{high:g}")
    return value


def _timestamp(document: dict, received_at: datetime) -> datetime:
    if document.get("ts") is not None:
        ts = _epoch(document["ts"])
    elif document.get("timestamp") is not None:
        ts = _iso(document["timestamp"])
    else:
        return received_at
    if ts < EARLIEST_TS:
        raise _Invalid("ts before 2000-01-01")
    if ts > received_at + MAX_FUTURE:
        raise _Invalid("ts more than 5 minutes in the future")
    return ts


def _epoch(value) -> datetime:
    if not _is_number(value) or not math.isfinite(value):
        raise _Invalid("ts is not a number")
    if value < 0:
        raise _Invalid("ts is negative")
    seconds = value if value < EPOCH_SECONDS_BELOW else value / 1000
    try:
        # Readings are kept to the millisecond, so redeliveries compare equal.
        return datetime.fromtimestamp(round(seconds * 1000) / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise _Invalid("ts out of range") from None


def _iso(value) -> datetime:
    if not isinstance(value, str):
        raise _Invalid("timestamp is not an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Invalid("timestamp is not ISO 8601") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        parsed = parsed.astimezone(UTC)
    except OverflowError:
        raise _Invalid("timestamp out of range") from None
    return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)


def _extra(document: dict) -> dict | None:
    # A key holding U+0000 is dropped: PostgreSQL's jsonb cannot represent it, and the
    # failed INSERT would take the whole batch, good readings included, down with it.
    extra = {}
    for key, value in document.items():
        if len(extra) == MAX_EXTRA_KEYS:
            break
        if (key not in RESERVED_KEYS and len(key) <= MAX_EXTRA_KEY_LENGTH and "\x00" not in key
                and _is_number(value) and math.isfinite(value)):
            extra[key] = value
    return extra or None
