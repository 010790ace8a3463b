"""Properties of the payload parser over arbitrary input: it never raises, and what it accepts obeys the contract."""
import json
import math
from datetime import UTC, datetime, timedelta, timezone

import orjson
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from devices.ids import DEVICE_ID_PATTERN
from telemetry.payload import (
    EARLIEST_TS,
    MAX_FUTURE,
    METRIC_RANGES,
    RESERVED_KEYS,
    Reading,
    Rejection,
    parse_message,
)

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

device_ids = st.from_regex(DEVICE_ID_PATTERN, fullmatch=True)
good_topics = device_ids.map(lambda device_id: f"devices/{device_id}/telemetry")
topics = st.one_of(good_topics, st.text(max_size=120), st.just("devices/device-001/telemetry"))
received_times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)

# Any JSON value, nested a little; very deep nesting has its own strategy below.
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)

# Values near and far outside the contract's ranges, of the right and the wrong types.
numbers = st.one_of(
    st.floats(min_value=-250, max_value=250),
    st.integers(min_value=-300, max_value=300),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(),
)
epoch_values = st.one_of(
    st.integers(min_value=-(10**13), max_value=10**14),
    st.floats(min_value=-1e14, max_value=1e14),
    st.floats(allow_nan=False, allow_infinity=False),
)
iso_strings = st.one_of(
    st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
        timezones=st.one_of(st.none(), st.timezones(), st.builds(
            timezone, st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59))
        )),
    ).map(datetime.isoformat),
    st.text(alphabet="0123456789-:TZ.+ ", max_size=40),
    st.text(max_size=40),
)
contract_shaped = st.fixed_dictionaries(
    {},
    optional={
        "deviceId": st.one_of(device_ids, json_values),
        "device_id": st.one_of(device_ids, json_values),
        "ts": st.one_of(epoch_values, json_values),
        "timestamp": st.one_of(iso_strings, json_values),
        "temperature": st.one_of(numbers, json_values),
        "humidity": st.one_of(numbers, json_values),
        "battery": st.one_of(numbers, json_values),
        "pressure": st.one_of(numbers, json_values),
        "rssi": json_values,
    },
)


def deep_nesting(depth: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * depth + b"]" * depth
    return b'{"temperature": 20, "a": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"


def huge_number_document(key: str, digits: int, exponent: int | None, negative: bool) -> bytes:
    number = ("-" if negative else "") + "9" * digits + (f"e{exponent}" if exponent is not None else "")
    return f'{{"temperature": 20, "{key}": {number}}}'.encode()


def assert_obeys_the_contract(outcome, topic: str, received_at: datetime) -> None:
    """A Rejection with a reason, or a Reading inside every range of docs/contract.md ("Payload")."""
    if isinstance(outcome, Rejection):
        assert isinstance(outcome.reason, str) and outcome.reason.strip()
        return
    assert isinstance(outcome, Reading), f"neither a Reading nor a Rejection: {outcome!r}"
    assert DEVICE_ID_PATTERN.fullmatch(outcome.device_id)
    assert topic == f"devices/{outcome.device_id}/telemetry"
    assert outcome.ts.tzinfo is not None and outcome.ts.utcoffset() == timedelta(0)
    assert EARLIEST_TS <= outcome.ts <= received_at + MAX_FUTURE
    assert outcome.ts.microsecond % 1000 == 0 or outcome.ts == received_at
    for name, (low, high) in METRIC_RANGES.items():
        value = getattr(outcome, name)
        assert value is None or (type(value) is float and math.isfinite(value) and low <= value <= high), name
    assert outcome.temperature is not None or outcome.humidity is not None
    if outcome.extra is not None:
        assert isinstance(outcome.extra, dict) and outcome.extra
        for key, value in outcome.extra.items():
            assert key not in RESERVED_KEYS and "\x00" not in key  # PostgreSQL's jsonb refuses U+0000
            assert isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        # The extra field is stored as JSON: it must serialise.
        orjson.dumps(outcome.extra)


@PROPERTY_SETTINGS
@given(topic=topics, payload=st.binary(max_size=512), received_at=received_times)
@example(topic="devices/device-001/telemetry", payload=b"\xff\xfe\x00", received_at=datetime(2026, 1, 1, tzinfo=UTC))
@example(topic="devices/device-001/telemetry", payload=b"\xed\xa0\x80", received_at=datetime(2026, 1, 1, tzinfo=UTC))
def test_arbitrary_bytes_never_raise_and_yield_a_reading_or_a_reason(topic, payload, received_at):
    assert_obeys_the_contract(parse_message(topic, payload, received_at), topic, received_at)


@PROPERTY_SETTINGS
@given(topic=good_topics, document=json_values, ascii_only=st.booleans(), received_at=received_times)
def test_arbitrary_json_values_never_raise(topic, document, ascii_only, received_at):
    # Unescaped text may hold lone surrogates, which become invalid UTF-8 on the wire.
    payload = json.dumps(document, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    assert_obeys_the_contract(parse_message(topic, payload, received_at), topic, received_at)


@PROPERTY_SETTINGS
@given(topic=st.one_of(good_topics, topics), document=contract_shaped, received_at=received_times)
def test_contract_shaped_documents_with_any_values_obey_the_contract_when_accepted(topic, document, received_at):
    payload = json.dumps(document).encode()
    outcome = parse_message(topic, payload, received_at)
    assert_obeys_the_contract(outcome, topic, received_at)
    assert parse_message(topic, payload, received_at) == outcome, "parsing is deterministic"


@settings(max_examples=50, deadline=None)
@given(depth=st.integers(min_value=1, max_value=20_000), kind=st.sampled_from(["list", "object"]))
@example(depth=1_025, kind="object")
@example(depth=100_000, kind="list")
def test_deeply_nested_json_is_rejected_or_accepted_without_raising(depth, kind):
    received_at = datetime(2026, 1, 1, tzinfo=UTC)
    outcome = parse_message("devices/d1/telemetry", deep_nesting(depth, kind), received_at)
    assert_obeys_the_contract(outcome, "devices/d1/telemetry", received_at)
    if kind == "list" or len(deep_nesting(depth, kind)) > 64 * 1024:
        assert isinstance(outcome, Rejection)


@PROPERTY_SETTINGS
@given(
    key=st.sampled_from(["ts", "temperature", "humidity", "battery", "pressure"]),
    digits=st.integers(min_value=1, max_value=500),
    exponent=st.one_of(st.none(), st.integers(min_value=-500, max_value=500)),
    negative=st.booleans(),
)
@example(key="ts", digits=400, exponent=None, negative=False)
@example(key="pressure", digits=1, exponent=400, negative=True)
def test_huge_numbers_never_raise(key, digits, exponent, negative):
    received_at = datetime(2026, 1, 1, tzinfo=UTC)
    payload = huge_number_document(key, digits, exponent, negative)
    assert_obeys_the_contract(parse_message("devices/d1/telemetry", payload, received_at), "devices/d1/telemetry",
                              received_at)


@settings(max_examples=30, deadline=None)
@given(size=st.integers(min_value=64 * 1024 + 1, max_value=256 * 1024), filler=st.sampled_from([b" ", b"x", b"\xff"]))
def test_any_payload_over_64_kib_is_rejected_for_its_size(size, filler):
    payload = b'{"temperature": 20, "note": "' + filler * size + b'"}'
    outcome = parse_message("devices/d1/telemetry", payload, datetime(2026, 1, 1, tzinfo=UTC))
    assert isinstance(outcome, Rejection) and "larger than" in outcome.reason


@PROPERTY_SETTINGS
@given(
    topic=good_topics,
    temperature=st.one_of(st.none(), st.floats(min_value=-100, max_value=200)),
    humidity=st.floats(min_value=0, max_value=100),
    battery=st.one_of(st.none(), st.floats(min_value=0, max_value=100)),
    age=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650)),
    received_at=st.datetimes(min_value=datetime(2012, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
)
def test_a_valid_reading_is_accepted_and_a_redelivery_parses_to_the_same_reading(
    topic, temperature, humidity, battery, age, received_at
):
    ts_ms = int((received_at - age).timestamp() * 1000)
    document = {"ts": ts_ms, "temperature": temperature, "humidity": humidity, "battery": battery}
    payload = orjson.dumps(document)
    first = parse_message(topic, payload, received_at)
    assert isinstance(first, Reading), first
    assert first.humidity == humidity and first.temperature == temperature and first.battery == battery
    assert first.ts == datetime.fromtimestamp(ts_ms / 1000, tz=UTC)
    # A redelivery arrives later but carries the same ts: same (device, ts) key.
    assert parse_message(topic, payload, received_at + timedelta(minutes=1)) == first
