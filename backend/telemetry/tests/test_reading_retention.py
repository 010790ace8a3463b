"""RETENTION_DAYS: the worker deletes old readings, in short batches; unset, it keeps them all."""
import io
import itertools
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from devices.models import Device
from devtools.clock import FakeClock
from devtools.waiting import wait_until
from telemetry import retention
from telemetry.models import Telemetry
from telemetry.retention import ReadingPruning, readings_prune

sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="on PostgreSQL pg_partman drops whole partitions instead (test_partitions.py)",
)


def make_readings(device_id: str, *ages: timedelta, now) -> None:
    device, _ = Device.objects.get_or_create(device_id=device_id, defaults={"last_seen": now})
    Telemetry.objects.bulk_create([
        Telemetry(device=device, ts=now - age, temperature=20.0, received_at=now) for age in ages
    ])


def remaining(now) -> list[tuple[str, timedelta]]:
    return sorted((device_id, now - ts) for device_id, ts in Telemetry.objects.values_list("device_id", "ts"))


@sqlite_only
@pytest.mark.django_db
def test_prune_deletes_only_readings_older_than_the_retention_in_small_statements():
    now = timezone.now()
    old = [timedelta(days=30, seconds=n + 1) for n in range(7)]
    kept = [timedelta(days=30) - timedelta(seconds=1), timedelta(minutes=1)]
    make_readings("d1", *old, *kept, now=now)
    make_readings("d2", *old[:2], *kept, now=now)

    with CaptureQueriesContext(connection) as queries:
        report = readings_prune(now=now, retention_days=30, batch_rows=3)

    assert (report.deleted, report.done) == (9, True)
    assert remaining(now) == sorted((device, age) for device in ("d1", "d2") for age in kept)
    deletes = [q["sql"] for q in queries if q["sql"].upper().startswith("DELETE")]
    assert len(deletes) == 4  # d1: 3 + 3 + 1, d2: 2; never a device's whole history at once


@sqlite_only
@pytest.mark.django_db
def test_prune_stops_at_its_time_budget_and_says_readings_are_left():
    now = timezone.now()
    make_readings("d1", *[timedelta(days=30, seconds=n) for n in range(10)], now=now)
    ticks = itertools.count()
    report = readings_prune(now=now, retention_days=7, batch_rows=3, budget_seconds=1, clock=lambda: next(ticks))
    assert (report.deleted, report.done) == (3, False)
    assert Telemetry.objects.count() == 7


@pytest.mark.django_db
def test_retention_unset_deletes_no_reading(settings):
    settings.RETENTION_DAYS = 0
    now = timezone.now()
    make_readings("d1", timedelta(days=3650), timedelta(days=400), timedelta(seconds=1), now=now)
    report = ReadingPruning().run_if_due()
    assert (report.deleted, report.done) == (0, True)
    assert Telemetry.objects.count() == 3


@sqlite_only
@pytest.mark.django_db
def test_a_delete_holds_the_sqlite_write_lock_briefly_on_200000_old_readings():
    now = timezone.now()
    # 20 devices, 10,000 readings each, the newest a second ago; then two recent ones.
    call_command("seed_telemetry", devices=20, readings=200_000, step=1, stdout=io.StringIO())
    future = now + timedelta(days=2)
    make_readings("seed-00001", -timedelta(days=2) + timedelta(hours=1), now=now)

    with CaptureQueriesContext(connection) as queries:
        report = readings_prune(now=future, retention_days=1, budget_seconds=600)

    assert (report.deleted, report.done) == (200_000, True)
    assert list(Telemetry.objects.values_list("device_id", flat=True)) == ["seed-00001"]
    deletes = sorted(float(q["time"]) for q in queries if q["sql"].startswith("DELETE"))
    assert len(deletes) == 200_000 // retention.READINGS_BATCH_ROWS
    # Each DELETE is its own transaction: the ingest waits for the write lock at most about this long.
    assert deletes[-1] < 0.1, f"the longest DELETE took {deletes[-1] * 1000:.0f} ms"


@pytest.mark.django_db(transaction=True)
def test_the_running_worker_deletes_old_readings_and_keeps_newer_ones(mqtt_broker, platform_env, start_process):
    now = timezone.now()
    make_readings("d1", *[timedelta(days=3, seconds=n) for n in range(5)], timedelta(hours=1), now=now)
    make_readings("d2", timedelta(days=3), timedelta(minutes=1), now=now)
    worker = start_process("process_tasks", "--duration=0", "--sleep=1",
                           env=platform_env(mqtt_broker, RETENTION_DAYS=2))

    wait_until(lambda: Telemetry.objects.count() == 2, timeout=30, interval=0.2,
               message="old readings deleted")
    assert remaining(now) == [("d1", timedelta(hours=1)), ("d2", timedelta(minutes=1))]
    assert worker.terminate(timeout=10) == 0
    assert "Traceback" not in worker.output()


@sqlite_only
@pytest.mark.django_db
def test_readings_are_pruned_every_few_minutes_and_sooner_while_old_ones_are_left(settings):
    settings.RETENTION_DAYS = 1
    clock = FakeClock()
    now = timezone.now()
    make_readings("d1", *[timedelta(days=2, seconds=n) for n in range(5)], now=now)
    pruning = ReadingPruning(clock=clock, batch_rows=3, budget_seconds=0)

    assert pruning.run_if_due().done is False
    assert Telemetry.objects.count() == 2
    clock.now += retention.CATCH_UP_SECONDS - 1
    assert pruning.run_if_due() is None
    clock.now += 1
    assert pruning.run_if_due().deleted == 2
    make_readings("d1", timedelta(days=3), now=now)
    clock.now += retention.PRUNE_INTERVAL_SECONDS - 1
    assert pruning.run_if_due() is None
    clock.now += 1
    assert pruning.run_if_due().deleted == 1


@sqlite_only
@pytest.mark.django_db
def test_a_run_out_of_time_goes_on_at_the_next_device_the_next_time(settings):
    settings.RETENTION_DAYS = 1
    clock = FakeClock()
    now = timezone.now()
    for device_id in ("d1", "d2", "d3"):
        make_readings(device_id, timedelta(days=2), timedelta(days=3), timedelta(hours=1), now=now)
    pruning = ReadingPruning(clock=clock, budget_seconds=0)

    def old_per_device():
        return [Telemetry.objects.filter(device_id=d, ts__lt=now - timedelta(days=1)).count()
                for d in ("d1", "d2", "d3")]

    assert (pruning.run_if_due().done, old_per_device()) == (False, [0, 2, 2])
    clock.now += retention.CATCH_UP_SECONDS
    assert (pruning.run_if_due().done, old_per_device()) == (False, [0, 0, 2])
    clock.now += retention.CATCH_UP_SECONDS
    assert (pruning.run_if_due().done, old_per_device()) == (True, [0, 0, 0])
    assert Telemetry.objects.count() == 3
