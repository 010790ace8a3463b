"""The pure rules of kept rejections: key, stored text, reason kind, the hourly sample."""
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest

from telemetry.rejections import (
    STORED_TEXT_LIMIT,
    Candidate,
    SampleLimits,
    hour_of,
    reason_kind,
    rejection_digest,
    rejection_text,
    sample_plan,
    stored_counts,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
LIMITS = SampleLimits(per_device=3, per_hour=5)


def candidate(digest: str, *, device: str | None = "d1", reason: str = "invalid JSON: x",
              at: datetime = NOW, redelivered: bool = False) -> Candidate:
    return Candidate(digest=digest, device_id=device, reason=reason, received_at=at, redelivered=redelivered)


def test_the_digest_covers_topic_and_whole_payload():
    base = rejection_digest("devices/d1/telemetry", b"x" * 5000)
    assert len(base) == 64 and int(base, 16) >= 0
    assert base == rejection_digest("devices/d1/telemetry", b"x" * 5000)
    assert base != rejection_digest("devices/d1/telemetry", b"x" * 5001)  # beyond the stored 4 KiB
    assert base != rejection_digest("devices/d2/telemetry", b"x" * 5000)
    # The separator keeps topic and payload apart.
    assert rejection_digest("a", b"bc") != rejection_digest("ab", b"c")


@pytest.mark.parametrize(
    ("payload", "text"),
    [
        (b'{"a":\x00}\xff', '{"a":\\x00}\\xff'),
        ("température".encode(), "température"),
        (b"", ""),
    ],
)
def test_the_text_escapes_nul_and_undecodable_bytes(payload, text):
    assert rejection_text(payload) == text


@pytest.mark.parametrize("payload", [b"\xff" * 4096, b"\x00" * 4096, b"a\xff" * 3000, b"ab\x00" * 2000,
                                     b"x" * 100_000])
def test_the_text_is_at_most_4096_characters_whatever_the_bytes(payload):
    text = rejection_text(payload)
    assert len(text) <= STORED_TEXT_LIMIT
    assert len(text) >= STORED_TEXT_LIMIT - 3  # cut only to keep an escape whole
    assert "\x00" not in text
    text.encode("utf-8")  # no lone surrogate left


def test_the_text_never_ends_in_half_an_escape():
    text = rejection_text(b"a" + b"\xff" * 2000)
    assert text == "a" + "\\xff" * 1023
    assert len(text) == 4093


def test_the_text_is_the_first_4_kib_of_the_payload_however_few_characters_they_make():
    assert rejection_text("é".encode() * 3000) == "é" * 2048


def test_an_escape_that_would_pass_the_bound_is_left_out_whole():
    # The 4 KiB cut leaves the first byte of "é", whose escape does not fit.
    assert rejection_text(b"x" * 4095 + "é".encode()) == "x" * 4095


def test_the_reason_kind_drops_the_parsers_detail():
    assert reason_kind("invalid JSON: unexpected character: line 1 column 7 (char 6)") == "invalid JSON"
    assert reason_kind("temperature out of range -100..200") == "temperature out of range -100..200"


def test_the_hour_is_the_utc_clock_hour():
    assert hour_of(NOW) == datetime(2026, 1, 2, 3, tzinfo=UTC)
    assert hour_of(datetime(2026, 1, 2, 5, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))) == \
        datetime(2026, 1, 2, 0, tzinfo=UTC)


def test_a_redelivery_of_a_stored_digest_is_neither_kept_nor_counted():
    plan = sample_plan([candidate("a", redelivered=True)], stored_digests={"a"}, counts=Counter(), limits=LIMITS)
    assert (plan.keep, plan.rejected, plan.not_kept, plan.redeliveries) == ([], 0, 0, 1)


def test_the_same_bytes_again_without_redelivery_are_counted_but_kept_once():
    plan = sample_plan([candidate("a"), candidate("a"), candidate("a")], stored_digests=set(),
                       counts=Counter(), limits=LIMITS)
    assert (plan.keep, plan.rejected, plan.not_kept, plan.redeliveries) == ([0], 3, 2, 0)


def test_a_message_and_its_redelivery_in_one_batch_are_one_rejection():
    plan = sample_plan([candidate("a"), candidate("a", redelivered=True)], stored_digests=set(),
                       counts=Counter(), limits=LIMITS)
    assert (plan.keep, plan.rejected, plan.not_kept, plan.redeliveries) == ([0], 1, 0, 1)


def test_a_redelivery_whose_first_delivery_never_committed_is_a_first_delivery():
    plan = sample_plan([candidate("a", redelivered=True)], stored_digests=set(), counts=Counter(), limits=LIMITS)
    assert (plan.keep, plan.rejected, plan.redeliveries) == ([0], 1, 0)


def test_the_sample_is_per_device_and_reason_kind_and_hour():
    batch = [candidate(f"a{i}", reason=f"invalid JSON: column {i}") for i in range(4)]
    batch += [candidate("b0", device="d2"), candidate("c0", reason="no metric")]
    batch += [candidate("n1", at=NOW + timedelta(hours=1))]
    plan = sample_plan(batch, stored_digests=set(), counts=Counter(), limits=SampleLimits(per_device=3, per_hour=50))
    assert plan.keep == [0, 1, 2, 4, 5, 6]
    assert (plan.rejected, plan.not_kept) == (7, 1)


def test_the_sample_starts_from_what_the_database_holds():
    hour = hour_of(NOW)
    counts = stored_counts([(hour, "d1", "invalid JSON: column 3", 2), (hour, "d9", "no metric", 2)])
    assert counts[(hour, "d1", "invalid JSON")] == 2 and counts[hour] == 4
    plan = sample_plan([candidate("a"), candidate("b"), candidate("c", device="d2"), candidate("d", device=None)],
                       stored_digests=set(), counts=counts, limits=LIMITS)
    # d1 has room for one more; the hour for one more in all.
    assert plan.keep == [0]
    assert (plan.rejected, plan.not_kept) == (4, 3)


def test_limits_of_zero_keep_nothing_and_count_everything():
    plan = sample_plan([candidate("a"), candidate("b")], stored_digests=set(), counts=Counter(),
                       limits=SampleLimits(per_device=0, per_hour=0))
    assert (plan.keep, plan.rejected, plan.not_kept) == ([], 2, 2)
