"""The watermark's gap bookkeeping, without a database."""
from alerts.watermark import Gap, Watermark, advance, missing_ranges, parse_pg_snapshot

NONE = frozenset()


def step(mark, *, new=(), refilled=(), before=NONE, after=NONE, max_gaps=100):
    return advance(mark, new_ids=list(new), gap_ids=list(refilled), in_progress_before=before,
                   in_progress_after=after, max_gaps=max_gaps)


def test_missing_ranges_lists_the_holes_between_what_was_read():
    assert missing_ranges([3, 4, 7, 10], after=0, upto=10) == [(1, 2), (5, 6), (8, 9)]
    assert missing_ranges([], after=5, upto=7) == [(6, 7)]
    assert missing_ranges([6, 7], after=5, upto=7) == []


def test_reading_contiguous_ids_moves_the_position_and_opens_no_gap():
    result = step(Watermark(10), new=[11, 12, 13], after=frozenset({99}))
    assert result.watermark == Watermark(13)


def test_nothing_new_leaves_the_watermark_unchanged():
    assert step(Watermark(10)).watermark == Watermark(10)


def test_a_hole_is_kept_with_the_transactions_that_may_still_fill_it():
    result = step(Watermark(10), new=[11, 13], after=frozenset({500, 501}))
    assert result.watermark == Watermark(13, (Gap(12, 12, frozenset({500, 501})),))


def test_a_gap_is_kept_while_its_fence_runs_then_read_once_more_and_dropped():
    mark = Watermark(13, (Gap(12, 12, frozenset({500})),))
    # Transaction 500 still runs: the gap stays, however often it is read.
    assert step(mark, before=frozenset({500, 600})).watermark == mark
    # 500 has finished before this read: the read is final, the gap goes.
    assert step(mark, refilled=[12], before=frozenset({600})).watermark == Watermark(13)
    assert step(mark, before=frozenset({600})).watermark == Watermark(13)


def test_a_partly_filled_gap_keeps_only_its_missing_ids():
    mark = Watermark(20, (Gap(11, 15, frozenset({7})),))
    result = step(mark, refilled=[12, 14], before=frozenset({7}))
    assert result.watermark.gaps == (Gap(11, 11, frozenset({7})), Gap(13, 13, frozenset({7})), Gap(15, 15, frozenset({7})))


def test_where_writers_are_serialized_a_gap_is_reread_once_and_dropped():
    first = step(Watermark(0), new=[1, 3]).watermark
    assert first == Watermark(3, (Gap(2, 2, NONE),))
    assert step(first).watermark == Watermark(3)


def test_too_many_open_gaps_drops_the_oldest():
    mark = Watermark(10, (Gap(2, 2, frozenset({1})), Gap(4, 4, frozenset({1}))))
    result = step(mark, new=[12], before=frozenset({1}), after=frozenset({1}), max_gaps=2)
    assert result.dropped_unsettled == 1
    assert result.watermark.gaps == (Gap(4, 4, frozenset({1})), Gap(11, 11, frozenset({1})))


def test_gaps_survive_a_json_round_trip():
    gap = Gap(5, 9, frozenset({3, 1}))
    assert gap.to_json() == {"lo": 5, "hi": 9, "fence": [1, 3]}
    assert Gap.from_json(gap.to_json()) == gap


def test_a_postgresql_snapshot_gives_its_running_transactions():
    assert parse_pg_snapshot("100:105:100,102") == frozenset({100, 102})
    assert parse_pg_snapshot("100:100:") == frozenset()
