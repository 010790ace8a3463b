"""The payload rules (docs/contract.md, "MQTT"), without broker or database."""
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from telemetry.payload import Reading, Rejection, device_id_from_topic, parse_message

NOW = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
TOPIC = "devices/device-001/telemetry"


def parse(document, topic=TOPIC, now=NOW):
    payload = document if isinstance(document, bytes) else orjson.dumps(document)
    return parse_message(topic, payload, now)


def rejected_reason(document, **kwargs) -> str:
    outcome = parse(document, **kwargs)
    assert isinstance(outcome, Rejection), f"expected a rejection, got {outcome}"
    return outcome.reason


def test_it_accepts_the_documented_example():
    reading = parse({"deviceId": "device-001", "ts": 1728481425000, "temperature": 26.3, "humidity": 47.9})
    assert reading == Reading(
        device_id="device-001",
        ts=datetime(2024, 10, 9, 13, 43, 45, tzinfo=UTC),
        temperature=26.3,
        humidity=47.9,
        battery=None,
        extra=None,
    )


@pytest.mark.parametrize("key", ["deviceId", "device_id"])
def test_it_accepts_either_device_id_spelling_when_it_matches_the_topic(key):
    assert isinstance(parse({key: "device-001", "temperature": 20}), Reading)


@pytest.mark.parametrize("key", ["deviceId", "device_id"])
def test_it_rejects_a_payload_device_id_that_differs_from_the_topic(key):
    assert "does not match" in rejected_reason({key: "device-002", "temperature": 20})


def test_the_device_id_is_optional_in_the_payload():
    assert parse({"temperature": 20}).device_id == "device-001"


@pytest.mark.parametrize(
    "topic",
    [
        "devices/-bad/telemetry",
        "devices/a b/telemetry",
        "devices//telemetry",
        "devices/" + "x" * 65 + "/telemetry",
        "devices/device-001/status",
        "other/device-001/telemetry",
        "devices/device-001/telemetry/extra",
    ],
)
def test_it_rejects_topics_outside_the_contract(topic):
    assert "topic" in rejected_reason({"temperature": 20}, topic=topic)


def test_device_ids_follow_the_documented_pattern():
    assert device_id_from_topic("devices/A.b_c-9/telemetry") == "A.b_c-9"
    assert device_id_from_topic("devices/" + "x" * 64 + "/telemetry") == "x" * 64
    assert device_id_from_topic("devices/_x/telemetry") is None


def test_epoch_seconds_and_milliseconds_are_told_apart_at_1e11():
    seconds = parse({"temperature": 20, "ts": 1728481425}).ts
    millis = parse({"temperature": 20, "ts": 1728481425000}).ts
    assert seconds == millis == datetime(2024, 10, 9, 13, 43, 45, tzinfo=UTC)
    # Just below the line it is seconds (year 5138, too far ahead); at the line, milliseconds (1973).
    assert "future" in rejected_reason({"temperature": 20, "ts": 99_999_999_999})
    assert "before 2000" in rejected_reason({"temperature": 20, "ts": 100_000_000_000})


def test_timestamps_are_kept_to_the_millisecond():
    assert parse({"temperature": 20, "ts": 1728481425123.9}).ts.microsecond == 124000
    assert parse({"temperature": 20, "ts": 1728481425.1234}).ts.microsecond == 123000


def test_the_receive_time_is_used_when_no_timestamp_is_given():
    assert parse({"temperature": 20}).ts == NOW


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-10-09T13:43:45Z", datetime(2024, 10, 9, 13, 43, 45, tzinfo=UTC)),
        ("2024-10-09T13:43:45", datetime(2024, 10, 9, 13, 43, 45, tzinfo=UTC)),
        ("2024-10-09T15:43:45.5+02:00", datetime(2024, 10, 9, 13, 43, 45, 500000, tzinfo=UTC)),
    ],
)
def test_an_iso_timestamp_is_accepted_and_zoneless_means_utc(text, expected):
    assert parse({"temperature": 20, "timestamp": text}).ts == expected


def test_ts_wins_over_timestamp_when_both_are_given():
    assert parse({"temperature": 20, "ts": 1728481425000, "timestamp": "2020-01-01T00:00:00Z"}).ts.year == 2024


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"temperature": 20, "ts": -1}, "negative"),
        ({"temperature": 20, "ts": 946684799}, "before 2000"),
        ({"temperature": 20, "ts": "1728481425000"}, "not a number"),
        ({"temperature": 20, "ts": True}, "not a number"),
        ({"temperature": 20, "timestamp": "yesterday"}, "ISO 8601"),
        ({"temperature": 20, "timestamp": 1728481425}, "ISO 8601"),
        ({"temperature": 20, "timestamp": "1999-12-31T23:59:59Z"}, "before 2000"),
        ({"temperature": 20, "ts": 1e300}, "out of range"),
    ],
)
def test_it_rejects_bad_timestamps(document, reason):
    assert reason in rejected_reason(document)


def test_it_accepts_up_to_five_minutes_in_the_future_and_no_more():
    edge = NOW + timedelta(minutes=5)
    assert isinstance(parse({"temperature": 20, "ts": edge.timestamp() * 1000}), Reading)
    assert "future" in rejected_reason({"temperature": 20, "ts": (edge.timestamp() + 1) * 1000})
    iso = (NOW + timedelta(minutes=6)).isoformat()
    assert "future" in rejected_reason({"temperature": 20, "timestamp": iso})


@pytest.mark.parametrize(
    ("field", "low", "high"),
    [("temperature", -100, 200), ("humidity", 0, 100), ("battery", 0, 100)],
)
def test_metric_ranges_are_inclusive(field, low, high):
    base = {"humidity": 50} if field != "humidity" else {"temperature": 20}
    assert getattr(parse({**base, field: low}), field) == low
    assert getattr(parse({**base, field: high}), field) == high
    assert "out of range" in rejected_reason({**base, field: low - 0.001})
    assert "out of range" in rejected_reason({**base, field: high + 0.001})


@pytest.mark.parametrize("value", ["25", True, [25], {"v": 25}])
def test_a_metric_that_is_not_a_number_is_rejected(value):
    assert "not a number" in rejected_reason({"temperature": value})


def test_null_metrics_mean_absent():
    reading = parse({"temperature": None, "humidity": 40, "battery": None})
    assert (reading.temperature, reading.humidity, reading.battery) == (None, 40.0, None)


@pytest.mark.parametrize("document", [{}, {"battery": 80}, {"pressure": 1013}, {"temperature": None, "humidity": None}])
def test_a_reading_needs_temperature_or_humidity(document):
    assert "no metric" in rejected_reason(document)


def test_other_numeric_fields_are_kept_as_extra_and_other_values_ignored():
    reading = parse({"temperature": 20, "pressure": 1013.2, "rssi": -70, "unit": "C", "ok": True})
    assert reading.extra == {"pressure": 1013.2, "rssi": -70}


def test_an_extra_key_holding_a_nul_character_is_dropped_because_postgresql_jsonb_cannot_store_it():
    reading = parse(b'{"temperature": 20, "pressure": 1013, "p\\u0000": 1, "\\u0000": 2}')
    assert reading.extra == {"pressure": 1013}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not json", "invalid JSON"),
        (b'{"temperature": NaN}', "invalid JSON"),
        (b'{"temperature": 1e400}', "invalid JSON"),
        (b'{"temperature": 20', "invalid JSON"),
        (b"\xff\xfe{}", "invalid JSON"),
        (b"", "invalid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b"25.5", "not a JSON object"),
        (b'"text"', "not a JSON object"),
    ],
)
def test_malformed_payloads_are_rejected_with_a_reason(payload, reason):
    assert reason in rejected_reason(payload)


def test_payloads_over_64_kib_are_rejected():
    padding = "x" * (64 * 1024)
    assert "larger than" in rejected_reason(orjson.dumps({"temperature": 20, "note": padding}))
    fits = orjson.dumps({"temperature": 20, "note": "x" * (64 * 1024 - 40)})
    assert len(fits) <= 64 * 1024 and isinstance(parse(fits), Reading)
