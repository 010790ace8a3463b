"""The bounds on a reading's `extra` fields (payload.py), without broker or database."""
from datetime import UTC, datetime

import orjson

from telemetry.payload import MAX_EXTRA_KEY_LENGTH, MAX_EXTRA_KEYS, Reading, parse_message

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
TOPIC = "devices/device-001/telemetry"


def extra_of(document: dict) -> dict | None:
    reading = parse_message(TOPIC, orjson.dumps({"temperature": 20, **document}), NOW)
    assert isinstance(reading, Reading)
    return reading.extra


def test_extra_keeps_the_first_32_numeric_fields_in_payload_order():
    document = {f"field{index:04d}": index for index in range(3000)}

    extra = extra_of(document)

    assert MAX_EXTRA_KEYS == 32
    assert list(extra) == [f"field{index:04d}" for index in range(32)]


def test_fields_extra_does_not_keep_do_not_count_towards_the_bound():
    document = {"label": "kitchen", "battery": 50, "on": True, **{f"k{index}": index for index in range(40)}}

    assert list(extra_of(document)) == [f"k{index}" for index in range(32)]


def test_a_field_name_longer_than_64_characters_is_dropped_not_cut():
    long_name = "x" * (MAX_EXTRA_KEY_LENGTH + 1)
    longest = "y" * MAX_EXTRA_KEY_LENGTH

    extra = extra_of({long_name: 1, longest: 2, "rssi": -70})

    assert MAX_EXTRA_KEY_LENGTH == 64
    assert extra == {longest: 2, "rssi": -70}


def test_a_reading_whose_only_extra_field_has_a_too_long_name_has_no_extra():
    assert extra_of({"z" * 1000: 1}) is None
