"""Old rejections are pruned in small batches by the worker; retention 0 keeps them all."""
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from devtools.clock import FakeClock
from telemetry import retention
from telemetry.models import RejectedMessage
from telemetry.retention import RejectionPruning, rejections_prune

NOW = datetime(2026, 1, 20, 12, tzinfo=UTC)


def make_rejections(*ages: timedelta, now: datetime = NOW) -> None:
    RejectedMessage.objects.bulk_create([
        RejectedMessage(topic="devices/d1/telemetry", device_id="d1", payload="junk", reason="invalid JSON",
                        digest=f"{index:064x}", received_at=now - age)
        for index, age in enumerate(ages)
    ])


def remaining_ages(now: datetime = NOW) -> list[timedelta]:
    return sorted(now - at for at in RejectedMessage.objects.values_list("received_at", flat=True))


@pytest.mark.django_db
def test_prune_deletes_only_rows_older_than_the_retention_in_small_statements():
    old = [timedelta(days=7, seconds=n + 1) for n in range(10)]
    kept = [timedelta(days=7) - timedelta(seconds=1), timedelta(hours=1)]
    make_rejections(*old, *kept)

    with CaptureQueriesContext(connection) as queries:
        report = rejections_prune(now=NOW, retention_days=7, batch_rows=3)

    assert (report.deleted, report.done) == (10, True)
    assert remaining_ages() == sorted(kept)
    deletes = [q["sql"] for q in queries if q["sql"].upper().startswith("DELETE")]
    assert len(deletes) == 4  # 3 + 3 + 3 + 1, never the whole set in one statement
    assert all("LIMIT 3" in sql for sql in deletes)


@pytest.mark.django_db
def test_prune_stops_at_its_time_budget_and_says_rows_are_left():
    make_rejections(*[timedelta(days=30, seconds=n) for n in range(10)])
    ticks = itertools.count()
    report = rejections_prune(now=NOW, retention_days=7, batch_rows=3, budget_seconds=1,
                              clock=lambda: next(ticks))
    assert (report.deleted, report.done) == (3, False)
    assert RejectedMessage.objects.count() == 7


@pytest.mark.django_db
def test_retention_zero_keeps_everything():
    make_rejections(timedelta(days=3650), timedelta(days=1))
    assert rejections_prune(now=NOW, retention_days=0).deleted == 0
    assert RejectedMessage.objects.count() == 2


@pytest.mark.django_db
def test_the_worker_prunes_every_few_minutes_not_every_pass(settings):
    settings.REJECTIONS_RETENTION_DAYS = 7
    clock = FakeClock()
    pruning = RejectionPruning(clock=clock)
    now = timezone.now()
    make_rejections(timedelta(days=8), now=now)

    assert pruning.run_if_due().deleted == 1
    make_rejections(timedelta(days=9), now=now)
    clock.now += retention.PRUNE_INTERVAL_SECONDS - 1
    assert pruning.run_if_due() is None
    assert RejectedMessage.objects.count() == 1
    clock.now += 1
    assert pruning.run_if_due().deleted == 1


@pytest.mark.django_db
def test_a_run_that_left_rows_behind_comes_back_soon(settings):
    settings.REJECTIONS_RETENTION_DAYS = 7
    clock = FakeClock()
    pruning = RejectionPruning(clock=clock, batch_rows=2, budget_seconds=0)
    make_rejections(*[timedelta(days=8, seconds=n) for n in range(5)], now=timezone.now())

    assert pruning.run_if_due().done is False
    assert RejectedMessage.objects.count() == 3
    clock.now += retention.CATCH_UP_SECONDS - 1
    assert pruning.run_if_due() is None
    clock.now += 1
    assert pruning.run_if_due().deleted == 2


@pytest.mark.django_db(transaction=True)
def test_the_running_worker_prunes_old_rejections_and_keeps_newer_ones(mqtt_broker, platform_env, start_process):
    now = timezone.now()
    make_rejections(*[timedelta(days=2, seconds=n) for n in range(5)], timedelta(hours=23), now=now)
    worker = start_process("process_tasks", "--duration=0", "--sleep=1",
                           env=platform_env(mqtt_broker, REJECTIONS_RETENTION_DAYS=1))

    worker.wait_for_output(r"pruned 5 rejected messages older than the 1-day retention")
    assert remaining_ages(now) == [timedelta(hours=23)]
    assert worker.terminate(timeout=10) == 0
    assert "Traceback" not in worker.output()
