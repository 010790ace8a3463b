"""Deleting old rows: rejected messages after REJECTIONS_RETENTION_DAYS, readings after RETENTION_DAYS.

The alert worker calls `Retention.run_if_due` after each pass. Rows are deleted a few at
a time every few minutes, and sooner while a backlog is left (a table from before the
retention); on PostgreSQL with pg_partman the readings' partitions are maintained every
hour instead, old ones dropped whole (telemetry.partitions).
"""
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from devices.models import Device
from telemetry import partitions
from telemetry.models import DeviceMinute, FleetMinute, RejectedMessage, Telemetry

log = logging.getLogger("telemetry.retention")

# Rows per DELETE: each statement is its own short transaction, so SQLite's write lock
# is never held for long and the ingest's batches go between them.
PRUNE_BATCH_ROWS = 2000
# Time one run may spend; what is left waits for the next run.
PRUNE_BUDGET_SECONDS = 1.0
PRUNE_INTERVAL_SECONDS = 300.0
# After a run that left old rows behind.
CATCH_UP_SECONDS = 5.0
# Readings per DELETE: on SQLite a statement of 1,000 takes 1-2 ms, at most about 10 ms on a
# loaded machine (docs/operations.md), well under the ~100 ms an ingest batch may wait.
READINGS_BATCH_ROWS = 1000
PARTITION_MAINTENANCE_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class PruneReport:
    deleted: int
    # False when the budget ran out with old rows left.
    done: bool
    # The longest DELETE transaction of the run, in seconds.
    longest_seconds: float = 0.0
    # Readings: the last device done when the budget ran out; the next run starts after it.
    resume_after: str | None = None


def rejections_prune(
    *,
    now: datetime,
    retention_days: int,
    batch_rows: int = PRUNE_BATCH_ROWS,
    budget_seconds: float = PRUNE_BUDGET_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> PruneReport:
    """Delete rejections received more than `retention_days` before `now`; 0 keeps them all."""
    if retention_days == 0:
        return PruneReport(deleted=0, done=True)
    old = RejectedMessage.objects.filter(received_at__lt=now - timedelta(days=retention_days))
    started, deleted = clock(), 0
    while True:
        oldest = old.order_by("received_at").values("pk")[:batch_rows]
        # One DELETE ... WHERE id IN (SELECT ... LIMIT n), on the received_at index.
        count = RejectedMessage.objects.filter(pk__in=oldest).delete()[0]
        deleted += count
        if count < batch_rows:
            return PruneReport(deleted=deleted, done=True)
        if clock() - started >= budget_seconds:
            return PruneReport(deleted=deleted, done=False)


def readings_prune(
    *,
    now: datetime,
    retention_days: int,
    batch_rows: int = READINGS_BATCH_ROWS,
    budget_seconds: float = PRUNE_BUDGET_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    after_device: str | None = None,
) -> PruneReport:
    """Delete readings taken more than `retention_days` before `now`, device by device; 0 keeps them all.

    Where pg_partman drops whole partitions, only the readings below its oldest partition
    (in the default partition) are deleted here.
    """
    if retention_days == 0:
        return PruneReport(deleted=0, done=True)
    cutoff = now - timedelta(days=retention_days)
    if partitions.partman_manages_readings():
        cutoff = partitions.rows_cutoff(cutoff)
    started, deleted, longest = clock(), 0, 0.0
    devices = Device.objects.order_by("pk").values_list("pk", flat=True)
    if after_device is not None:
        devices = devices.filter(pk__gt=after_device)
    previous = after_device
    # The (device, ts) index finds a device's oldest readings; there is no index on ts alone.
    for device_id in devices:
        # Looking at thousands of devices takes time too, even with nothing to delete.
        if previous != after_device and clock() - started >= budget_seconds:
            return PruneReport(deleted=deleted, done=False, longest_seconds=longest, resume_after=previous)
        while True:
            # Read outside the write transaction: the DELETE then only removes rows by key.
            ids = list(Telemetry.objects.filter(device_id=device_id, ts__lt=cutoff)
                       .order_by("ts").values_list("pk", flat=True)[:batch_rows])
            if not ids:
                break
            statement_started = clock()
            with transaction.atomic():
                # ts bounds the partitions PostgreSQL looks in; SQLite ignores it.
                deleted += Telemetry.objects.filter(pk__in=ids, ts__lt=cutoff).delete()[0]
            longest = max(longest, clock() - statement_started)
            if len(ids) < batch_rows:
                break
            if clock() - started >= budget_seconds:
                return PruneReport(deleted=deleted, done=False, longest_seconds=longest, resume_after=previous)
        previous = device_id
    return PruneReport(deleted=deleted, done=True, longest_seconds=longest)


class Pruning:
    """When the worker prunes one kind of row: every PRUNE_INTERVAL_SECONDS, or CATCH_UP_SECONDS after a partial run."""

    retention_setting: str
    rows: str
    default_batch_rows: int

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, batch_rows: int | None = None,
                 budget_seconds: float = PRUNE_BUDGET_SECONDS) -> None:
        self.clock = clock
        self.batch_rows = batch_rows or self.default_batch_rows
        self.budget_seconds = budget_seconds
        self.next_run = clock()

    def run_if_due(self) -> PruneReport | None:
        """Prune when due (the next run is planned even if this one fails); None when not due."""
        if self.clock() < self.next_run:
            return None
        self.next_run = self.clock() + PRUNE_INTERVAL_SECONDS
        retention_days = getattr(settings, self.retention_setting)
        report = self.prune_once(retention_days)
        if not report.done:
            self.next_run = self.clock() + CATCH_UP_SECONDS
        if report.deleted:
            log.info("pruned %d %s older than the %d-day retention%s", report.deleted, self.rows, retention_days,
                     "" if report.done else "; more are left for the next run")
        return report

    def prune_once(self, retention_days: int) -> PruneReport:
        """One run of the prune."""
        raise NotImplementedError


class RejectionPruning(Pruning):
    """Rejected messages older than REJECTIONS_RETENTION_DAYS."""

    retention_setting = "REJECTIONS_RETENTION_DAYS"
    rows = "rejected messages"
    default_batch_rows = PRUNE_BATCH_ROWS

    def prune_once(self, retention_days: int) -> PruneReport:
        """One run of the rejections prune."""
        return rejections_prune(now=timezone.now(), retention_days=retention_days, batch_rows=self.batch_rows,
                                budget_seconds=self.budget_seconds, clock=self.clock)


class ReadingPruning(Pruning):
    """Readings older than RETENTION_DAYS, row by row (all of them on SQLite, the default partition's with pg_partman)."""

    retention_setting = "RETENTION_DAYS"
    rows = "readings"
    default_batch_rows = READINGS_BATCH_ROWS
    resume_after: str | None = None

    def prune_once(self, retention_days: int) -> PruneReport:
        """One run, going on from the device where the last run's budget ran out."""
        report = readings_prune(now=timezone.now(), retention_days=retention_days, batch_rows=self.batch_rows,
                                budget_seconds=self.budget_seconds, clock=self.clock, after_device=self.resume_after)
        self.resume_after = None if report.done else report.resume_after
        return report


ROLLUP_PRUNE_SECONDS = 60.0


def rollups_prune(*, now: datetime) -> int:
    """Delete device minutes older than ROLLUP_RETENTION_MINUTES and fleet minutes older than FLEET_RATE_RETENTION_HOURS."""
    deleted, _ = DeviceMinute.objects.filter(minute__lt=now - timedelta(minutes=settings.ROLLUP_RETENTION_MINUTES)).delete()
    fleet, _ = FleetMinute.objects.filter(minute__lt=now - timedelta(hours=settings.FLEET_RATE_RETENTION_HOURS)).delete()
    return deleted + fleet


class RollupPruning:
    """The minute rollups past their retention, once a minute (about a minute's rows each time)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.next_run = clock()

    def run_if_due(self) -> int | None:
        """Prune when due; the rows deleted, or None when not due."""
        if self.clock() < self.next_run:
            return None
        self.next_run = self.clock() + ROLLUP_PRUNE_SECONDS
        return rollups_prune(now=timezone.now())


class PartitionMaintenance:
    """pg_partman's maintenance of the readings table every PARTITION_MAINTENANCE_SECONDS; nothing elsewhere."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.next_run = clock()

    def run_if_due(self) -> partitions.MaintenanceReport | None:
        """Run the maintenance when due and pg_partman keeps the table; None otherwise."""
        if self.clock() < self.next_run:
            return None
        self.next_run = self.clock() + PARTITION_MAINTENANCE_SECONDS
        if not partitions.partman_manages_readings():
            return None
        retention_days = settings.RETENTION_DAYS
        report = partitions.partitions_maintain(retention_days=retention_days)
        if report.dropped or report.created:
            log.info("partition maintenance: %d readings partitions dropped (retention %s), %d created",
                     report.dropped, f"{retention_days} days" if retention_days else "none", report.created)
        return report


class Retention:
    """Everything the worker deletes or maintains for retention, each part on its own schedule."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        # Partitions first: what they drop, the readings prune need not delete row by row.
        self.parts = (PartitionMaintenance(clock=clock), ReadingPruning(clock=clock), RejectionPruning(clock=clock),
                      RollupPruning(clock=clock))

    def run_if_due(self) -> None:
        """Run every part that is due; a failing part raises, the others run at the next pass."""
        for part in self.parts:
            part.run_if_due()
