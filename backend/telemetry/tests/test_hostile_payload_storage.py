"""Hostile payloads reach the database intact as rows, on SQLite and on PostgreSQL alike."""
from datetime import UTC, datetime

import pytest

from telemetry.models import RejectedMessage, Telemetry
from telemetry.payload import Reading, parse_message
from telemetry.services import RejectedInput, telemetry_store_batch

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_a_rejected_payload_holding_nul_bytes_is_stored_with_them_escaped():
    # PostgreSQL's text type refuses NUL; unescaped, one such message would fail its batch forever.
    telemetry_store_batch(
        readings=[],
        rejections=[RejectedInput("devices/d1/telemetry", b'{"a":\x00}\xff', "invalid JSON", NOW)],
        known_device_ids=set(),
    )
    assert RejectedMessage.objects.get().payload == '{"a":\\x00}\\xff'


def test_a_reading_with_a_nul_in_an_extra_key_is_stored_without_that_key():
    reading = parse_message("devices/d1/telemetry", b'{"temperature": 20, "rssi": -70, "x\\u0000": 1}', NOW)
    assert isinstance(reading, Reading)
    telemetry_store_batch(readings=[(reading, NOW)], rejections=[], known_device_ids=set())
    assert Telemetry.objects.get().extra == {"rssi": -70}
