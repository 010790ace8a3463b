"""The HIGH_TEMP watermark: read every reading once, even when rows commit out of id order.

With several ingest processes on PostgreSQL, ids come from a sequence when a row is
inserted, not when it commits, so a reader can see id 11 while id 10 is still being
written. A pass that reads past such a hole records it as a gap, together with a
*fence*: the transactions in progress just after the read. Only those transactions can
still fill the gap (any id below one the pass saw was handed out earlier, to a
transaction that had already started). The gap is read again on every pass; once no
transaction of its fence is still running, one last read finds everything it will ever
hold and the gap is dropped. On SQLite writers are serialized, so ids commit in order,
the fence is always empty and a gap is dropped after one re-read.

The bookkeeping here is pure; `transactions_in_progress` is the one database read.
"""
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.backends.base.base import BaseDatabaseWrapper


@dataclass(frozen=True, slots=True)
class Gap:
    """Ids lo..hi (inclusive) not seen yet, and the transactions that may still fill them."""

    lo: int
    hi: int
    fence: frozenset[int]

    def settled(self, in_progress: frozenset[int]) -> bool:
        """True once no transaction that could fill this gap is still running."""
        return not (self.fence & in_progress)

    def to_json(self) -> dict:
        return {"lo": self.lo, "hi": self.hi, "fence": sorted(self.fence)}

    @classmethod
    def from_json(cls, data: dict) -> "Gap":
        return cls(lo=int(data["lo"]), hi=int(data["hi"]), fence=frozenset(int(x) for x in data["fence"]))


@dataclass(frozen=True, slots=True)
class Watermark:
    """Every id <= position has been evaluated, except those in `gaps`."""

    position: int
    gaps: tuple[Gap, ...] = ()


@dataclass(frozen=True, slots=True)
class Advance:
    watermark: Watermark
    dropped_unsettled: int  # gaps given up because there were too many (logged by the caller)


def missing_ranges(ids: Iterable[int], *, after: int, upto: int) -> list[tuple[int, int]]:
    """The ranges of ids in (after, upto] that are not in `ids`."""
    ranges = []
    expected = after + 1
    for id_ in sorted(set(ids)):
        if id_ <= after or id_ > upto:
            continue
        if id_ > expected:
            ranges.append((expected, id_ - 1))
        expected = id_ + 1
    if expected <= upto:
        ranges.append((expected, upto))
    return ranges


def advance(
    mark: Watermark,
    *,
    new_ids: Sequence[int],
    gap_ids: Iterable[int],
    in_progress_before: frozenset[int],
    in_progress_after: frozenset[int],
    max_gaps: int,
) -> Advance:
    """The watermark after a pass read `new_ids` (ids > position) and `gap_ids` (ids in gaps).

    `in_progress_before` was taken before the reads: a gap settled then has been read
    for the last time and is dropped. `in_progress_after` was taken after them: it is
    the fence of the holes this pass found below the highest id it read.
    """
    found = set(gap_ids)
    gaps: list[Gap] = []
    for gap in mark.gaps:
        if gap.settled(in_progress_before):
            continue
        inside = [id_ for id_ in found if gap.lo <= id_ <= gap.hi]
        gaps.extend(Gap(lo, hi, gap.fence) for lo, hi in missing_ranges(inside, after=gap.lo - 1, upto=gap.hi))
    position = mark.position
    if new_ids:
        top = max(new_ids)
        gaps.extend(Gap(lo, hi, in_progress_after) for lo, hi in missing_ranges(new_ids, after=position, upto=top))
        position = top
    dropped = max(0, len(gaps) - max_gaps)
    return Advance(Watermark(position, tuple(gaps[dropped:])), dropped_unsettled=dropped)


def parse_pg_snapshot(text: str) -> frozenset[int]:
    """The in-progress transaction ids of a PostgreSQL snapshot `xmin:xmax:xip,...`."""
    _xmin, _xmax, xip = text.split(":")
    return frozenset(int(xid) for xid in xip.split(",") if xid)


def transactions_in_progress(connection: BaseDatabaseWrapper) -> frozenset[int]:
    """Ids of the write transactions running now (PostgreSQL); empty where writers are serialized."""
    if connection.vendor != "postgresql":
        return frozenset()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_snapshot()::text")
        return parse_pg_snapshot(cursor.fetchone()[0])
