"""Keyset pages: a list read in key order after the last key of the previous page, never with OFFSET."""
from dataclasses import dataclass

PAGE_MAX_LIMIT = 1_000


@dataclass(frozen=True, slots=True)
class Page:
    """One page of rows in key order; `next_after` is the last key when more follow, else None."""

    rows: list
    next_after: str | None


def page_of(rows: list, *, limit: int, key) -> Page:
    """The first `limit` of up to `limit + 1` rows fetched, and the cursor position when there were more."""
    if len(rows) > limit:
        return Page(rows=rows[:limit], next_after=key(rows[limit - 1]))
    return Page(rows=rows, next_after=None)
