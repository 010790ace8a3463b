"""The writer's storing logic (telemetry.ingest.storage) with the database call replaced."""
import pytest
from django.db import DataError, OperationalError

from telemetry.ingest import storage
from telemetry.ingest.writer import WriteResult
from telemetry.services import BatchResult

TOPIC = "devices/dev-1/telemetry"
RECEIVED = 1_790_000_000.123456  # epoch s, with microseconds as the receiver stamps it


def wire(payload: bytes, redelivered: bool = False):
    return (TOPIC, payload, RECEIVED, redelivered)


class FakeStore:
    """Stands in for telemetry_store_batch; fails every batch holding a reading of `poison` °C."""

    def __init__(self, poison: float | None = None, transient_failures: int = 0):
        self.poison = poison
        self.transient_failures = transient_failures
        self.calls = []
        self.committed = []

    def __call__(self, *, readings, rejections, known_device_ids, links=()):
        rejections = list(rejections)
        self.calls.append((readings, rejections))
        if self.transient_failures:
            self.transient_failures -= 1
            raise OperationalError("database is locked")
        if any(reading.temperature == self.poison for reading, _ in readings):
            raise DataError("value out of range\nDETAIL: more")
        self.committed.append((readings, rejections))
        return BatchResult(stored=len(readings), duplicates=0, rejected=len(rejections))


@pytest.fixture
def fake_store(monkeypatch):
    def install(**kwargs) -> FakeStore:
        fake = FakeStore(**kwargs)
        monkeypatch.setattr(storage, "telemetry_store_batch", fake)
        monkeypatch.setattr(storage.connection, "close", lambda: None)
        return fake

    return install


def test_a_rejection_carries_the_mqtt_dup_flag(fake_store):
    fake = fake_store()
    writer = storage.BatchWriter(should_stop=lambda _: False)

    writer.write([wire(b"not json", redelivered=True), wire(b"[]", redelivered=False)])

    [(_, rejections)] = fake.calls
    assert [item.redelivered for item in rejections] == [True, False]


def test_only_redelivered_readings_without_ts_are_counted(fake_store):
    fake_store()
    writer = storage.BatchWriter(should_stop=lambda _: False)

    result = writer.write([
        wire(b'{"temperature": 20}', redelivered=True),
        wire(b'{"temperature": 20, "ts": 1790000000000}', redelivered=True),
        wire(b'{"temperature": 20}', redelivered=False),
    ])

    assert result == WriteResult(stored=3, duplicates=0, rejected=0, redelivered_without_ts=1)


def test_a_poison_message_is_bisected_out_and_kept_as_a_rejection(fake_store):
    fake = fake_store(poison=66.6)
    writer = storage.BatchWriter(should_stop=lambda _: False)
    batch = [wire(b'{"temperature": %d, "ts": %d}' % (20, 1790000000000 + n)) for n in range(64)]
    batch[37] = wire(b'{"temperature": 66.6, "ts": 1790000000037}')

    result = writer.write(batch)

    assert result == WriteResult(stored=63, duplicates=0, rejected=1,
                                 reasons={"could not be stored: DataError: value out of range": 1})
    stored_ts = sorted(round(reading.ts.timestamp() * 1000) for readings, _ in fake.committed for reading, _ in readings)
    assert stored_ts == [1790000000000 + n for n in range(64) if n != 37]
    [rejection] = [item for _, rejections in fake.committed for item in rejections]
    assert rejection.reason == "could not be stored: DataError: value out of range"
    assert len(fake.calls) <= 2 * 6 + 2  # about 2 log2(64) attempts, not one per message


def test_a_transient_error_is_retried_not_bisected(fake_store):
    fake = fake_store(transient_failures=3)
    writer = storage.BatchWriter(should_stop=lambda _: False)

    result = writer.write([wire(b'{"temperature": 20, "ts": 1790000000000}'), wire(b'{"temperature": 21}')])

    assert result.stored == 2 and result.rejected == 0
    assert [len(readings) for readings, _ in fake.calls] == [2, 2, 2, 2]


def test_a_transient_error_gives_the_batch_up_when_told_to_stop(fake_store):
    fake_store(transient_failures=100)
    writer = storage.BatchWriter(should_stop=lambda _: True)

    assert writer.write([wire(b'{"temperature": 20}')]) is None
