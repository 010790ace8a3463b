"""Storing rejections through telemetry_store_batch: idempotent, sampled, bounded text."""
from datetime import UTC, datetime, timedelta

import pytest

from telemetry.models import RejectedMessage
from telemetry.rejections import STORED_TEXT_LIMIT, rejection_digest
from telemetry.services import RejectedInput, telemetry_store_batch

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
TOPIC = "devices/d1/telemetry"


@pytest.fixture(autouse=True)
def sample_limits(settings):
    settings.REJECTIONS_SAMPLE_PER_DEVICE = 3
    settings.REJECTIONS_SAMPLE_PER_HOUR = 8
    return settings


def store(*rejections: RejectedInput):
    return telemetry_store_batch(readings=[], rejections=list(rejections), known_device_ids=set())


def bad(payload: bytes, *, topic: str = TOPIC, reason: str = "invalid JSON: unexpected character",
        at: datetime = NOW, redelivered: bool = False) -> RejectedInput:
    return RejectedInput(topic, payload, reason, at, redelivered=redelivered)


def test_a_rejection_is_stored_with_its_digest_and_device_id():
    result = store(bad(b"not json"), bad(b"{}", topic="devices/bad id/telemetry", reason="topic is not ..."))
    assert (result.rejected, result.rejections_not_kept, result.rejection_redeliveries) == (2, 0, 0)
    first = RejectedMessage.objects.get(topic=TOPIC)
    assert (first.device_id, first.payload, first.digest) == ("d1", "not json", rejection_digest(TOPIC, b"not json"))
    assert RejectedMessage.objects.get(topic="devices/bad id/telemetry").device_id is None


def test_a_redelivered_rejection_is_neither_stored_nor_counted_twice():
    store(bad(b"not json"))
    result = store(bad(b"not json", at=NOW + timedelta(seconds=3), redelivered=True))
    assert (result.rejected, result.rejection_redeliveries, result.rejections_not_kept) == (0, 1, 0)
    assert RejectedMessage.objects.count() == 1


def test_the_same_bytes_sent_again_are_a_new_rejection_stored_once():
    store(bad(b"not json"))
    result = store(bad(b"not json", at=NOW + timedelta(seconds=3)), bad(b"not json", at=NOW + timedelta(seconds=4)))
    assert (result.rejected, result.rejection_redeliveries, result.rejections_not_kept) == (2, 0, 2)
    assert RejectedMessage.objects.count() == 1


def test_a_redelivery_whose_first_delivery_never_committed_is_stored_and_counted():
    result = store(bad(b"not json", redelivered=True))
    assert (result.rejected, result.rejection_redeliveries) == (1, 0)
    assert RejectedMessage.objects.filter(digest=rejection_digest(TOPIC, b"not json")).exists()


def test_a_flood_from_one_device_stores_its_sample_per_reason_and_counts_everything():
    flood = [bad(b"junk %d" % n, at=NOW + timedelta(milliseconds=n)) for n in range(20)]
    flood += [bad(b'{"battery": %d}' % n, reason="no metric: temperature or humidity is required") for n in range(5)]
    result = store(*flood)
    assert (result.rejected, result.rejections_not_kept) == (25, 19)
    kept = RejectedMessage.objects.filter(device_id="d1")
    assert kept.filter(reason__startswith="invalid JSON").count() == 3
    assert kept.filter(reason__startswith="no metric").count() == 3
    assert set(kept.filter(reason__startswith="invalid JSON").values_list("payload", flat=True)) == \
        {"junk 0", "junk 1", "junk 2"}


def test_the_sample_holds_across_batches_and_hours():
    for n in range(5):
        store(bad(b"junk %d" % n))
    assert RejectedMessage.objects.count() == 3
    result = store(bad(b"later", at=NOW + timedelta(hours=1)))
    assert (result.rejected, result.rejections_not_kept) == (1, 0)
    assert RejectedMessage.objects.count() == 4


def test_the_hourly_bound_holds_across_devices():
    result = store(*[bad(b"junk", topic=f"devices/d{n}/telemetry") for n in range(12)])
    assert (result.rejected, result.rejections_not_kept) == (12, 4)
    assert RejectedMessage.objects.count() == 8
    result = store(bad(b"junk", topic="devices/d99/telemetry", at=NOW + timedelta(minutes=50)))
    assert (result.rejected, result.rejections_not_kept) == (1, 1)


def test_the_sample_decision_is_one_grouped_query(django_assert_max_num_queries):
    store(bad(b"first"))
    # Savepoint, (PostgreSQL's advisory lock,) digest lookup, grouped counts, insert, release.
    with django_assert_max_num_queries(6) as captured:
        store(*[bad(b"junk %d" % n, topic=f"devices/d{n % 7}/telemetry") for n in range(200)])
    grouped = [q["sql"] for q in captured.captured_queries if "GROUP BY" in q["sql"].upper()]
    assert len(grouped) == 1


def test_the_stored_text_is_bounded_after_escaping():
    store(bad(b"\xff" * 5000), bad(b"\x00" * 4096, topic="devices/d2/telemetry"))
    for payload in RejectedMessage.objects.values_list("payload", flat=True):
        assert len(payload) <= STORED_TEXT_LIMIT
        assert "\x00" not in payload


def test_readings_and_rejections_of_one_batch_are_both_written():
    from telemetry.payload import Reading

    reading = Reading("d1", NOW, 20.0, None, None, None)
    result = telemetry_store_batch(readings=[(reading, NOW)], rejections=[bad(b"x")], known_device_ids=set())
    assert (result.stored, result.rejected) == (1, 1)
