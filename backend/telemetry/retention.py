"""Deleting rejected messages older than REJECTIONS_RETENTION_DAYS, a few at a time.

The alert worker calls `RejectionPruning.run_if_due` after each pass; it prunes every
few minutes, and sooner while a backlog is left (a table from before the retention).
"""
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from telemetry.models import RejectedMessage

log = logging.getLogger("telemetry.retention")

# Rows per DELETE: each statement is its own short transaction, so SQLite's write lock
# is never held for long and the ingest's batches go between them.
PRUNE_BATCH_ROWS = 2000
# Time one run may spend; what is left waits for the next run.
PRUNE_BUDGET_SECONDS = 1.0
PRUNE_INTERVAL_SECONDS = 300.0
# After a run that left old rows behind.
CATCH_UP_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class PruneReport:
    deleted: int
    # False when the budget ran out with old rows left.
    done: bool


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


class RejectionPruning:
    """When the worker prunes next: every PRUNE_INTERVAL_SECONDS, or CATCH_UP_SECONDS after a partial run."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, batch_rows: int = PRUNE_BATCH_ROWS,
                 budget_seconds: float = PRUNE_BUDGET_SECONDS) -> None:
        self.clock = clock
        self.batch_rows = batch_rows
        self.budget_seconds = budget_seconds
        self.next_run = clock()

    def run_if_due(self) -> PruneReport | None:
        """Prune when due (the next run is planned even if this one fails); None when not due."""
        if self.clock() < self.next_run:
            return None
        self.next_run = self.clock() + PRUNE_INTERVAL_SECONDS
        retention_days = settings.REJECTIONS_RETENTION_DAYS
        report = rejections_prune(now=timezone.now(), retention_days=retention_days, batch_rows=self.batch_rows,
                                  budget_seconds=self.budget_seconds, clock=self.clock)
        if not report.done:
            self.next_run = self.clock() + CATCH_UP_SECONDS
        if report.deleted:
            log.info("pruned %d rejected messages older than the %d-day retention%s", report.deleted, retention_days,
                     "" if report.done else "; more are left for the next run")
        return report
