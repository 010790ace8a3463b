"""Rules for keeping rejected messages: their key, their stored text, the hourly sample.

Everything here is pure; telemetry.services applies it inside the batch's transaction.
"""
import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

RAW_PAYLOAD_LIMIT = 4096
STORED_TEXT_LIMIT = 4096

# An undecodable byte (surrogateescape maps it to U+DC80..U+DCFF) or a NUL, which
# PostgreSQL's text type cannot hold: one such byte would fail the whole batch.
_UNSTORABLE = re.compile("[\x00\udc80-\udcff]")


def rejection_digest(topic: str, payload: bytes) -> str:
    """The key of a rejected message: sha256 (hex) of its topic and its whole raw payload."""
    # MQTT topics cannot contain NUL, so the separator makes the pair unambiguous.
    return hashlib.sha256(topic.encode("utf-8", "surrogatepass") + b"\x00" + payload).hexdigest()


def rejection_text(payload: bytes) -> str:
    """The raw payload's first 4 KiB as at most 4,096 characters, undecodable bytes and NUL escaped.

    Each escape (`\\xNN`) is kept whole or dropped whole, never cut in half.
    """
    text = payload[:RAW_PAYLOAD_LIMIT].decode("utf-8", "surrogateescape")
    pieces, length, start = [], 0, 0
    for match in _UNSTORABLE.finditer(text):
        literal = text[start:match.start()]
        if length + len(literal) >= STORED_TEXT_LIMIT:
            break
        escape = f"\\x{ord(match.group()) & 0xFF:02x}"
        pieces.append(literal)
        length += len(literal)
        start = match.end()
        if length + len(escape) > STORED_TEXT_LIMIT:
            return "".join(pieces)
        pieces.append(escape)
        length += len(escape)
    pieces.append(text[start:start + STORED_TEXT_LIMIT - length])
    return "".join(pieces)


def reason_kind(reason: str) -> str:
    """The rule a reason names, without the parser's detail (`invalid JSON: ...` is `invalid JSON`).

    The sample is kept per kind: random garbage gives a new JSON error position with
    almost every message, and would otherwise get a sample of its own each time.
    """
    return reason.split(": ", 1)[0]


def hour_of(moment: datetime) -> datetime:
    """The start of the clock hour a moment falls in (the sample's window)."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class SampleLimits:
    """How many rejections are stored per hour: per device and reason kind, and in all."""

    per_device: int
    per_hour: int


@dataclass(frozen=True, slots=True)
class Candidate:
    """One rejected message of a batch, as the sampling sees it."""

    digest: str
    device_id: str | None
    reason: str
    received_at: datetime
    redelivered: bool


@dataclass
class SamplePlan:
    """What a batch's rejections become: which to store, and the counts for the ingest."""

    keep: list[int] = field(default_factory=list)
    rejected: int = 0
    not_kept: int = 0
    redeliveries: int = 0


def stored_counts(groups: Iterable[tuple[datetime, str | None, str, int]]) -> Counter:
    """Fold grouped rows (hour, device_id, reason, count) into counts per sample key and per hour."""
    counts: Counter = Counter()
    for hour, device_id, reason, count in groups:
        counts[(hour, device_id, reason_kind(reason))] += count
        counts[hour] += count
    return counts


def sample_plan(
    candidates: Sequence[Candidate], *, stored_digests: set[str], counts: Counter, limits: SampleLimits
) -> SamplePlan:
    """Decide each rejection of a batch, in order, against what the database already holds.

    A digest already stored, or seen earlier in the batch, is a redelivery when the
    message says so (not counted again), otherwise the same bytes sent again (counted,
    not stored twice). A new digest is counted, and stored while its device and reason
    kind, and the hour as a whole, are under their limits. `counts` is updated.
    """
    plan = SamplePlan()
    seen = set(stored_digests)
    for index, candidate in enumerate(candidates):
        if candidate.digest in seen:
            if candidate.redelivered:
                plan.redeliveries += 1
            else:
                plan.rejected += 1
                plan.not_kept += 1
            continue
        seen.add(candidate.digest)
        plan.rejected += 1
        hour = hour_of(candidate.received_at)
        key = (hour, candidate.device_id, reason_kind(candidate.reason))
        if counts[key] < limits.per_device and counts[hour] < limits.per_hour:
            counts[key] += 1
            counts[hour] += 1
            plan.keep.append(index)
        else:
            plan.not_kept += 1
    return plan
