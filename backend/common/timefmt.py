"""The one timestamp format the platform shows: ISO 8601, UTC, milliseconds, `Z`."""
from datetime import UTC, datetime


def iso_utc(value: datetime) -> str:
    """`2024-10-09T13:43:45.123Z` for an aware datetime."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
