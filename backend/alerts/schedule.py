"""Keeping the repeating alert task scheduled exactly once in django-background-tasks.

The library neither checks for an existing schedule nor finishes a repetition
atomically (a kill between "create the next repetition" and "delete this one" leaves
two), and it backs a failing task off for minutes and finally drops it. The worker
therefore calls `alert_task_ensure_scheduled` when it starts and every few seconds.
"""
import logging
from datetime import datetime, timedelta

from background_task.models import CompletedTask, Task
from django.db import connection, transaction
from django.utils import timezone

from alerts.tasks import REPEAT_SECONDS, TASK_NAME, evaluate_alerts

log = logging.getLogger("alerts.worker")

# Completed repetitions (one a second) kept for the admin, then deleted.
COMPLETED_KEEP = timedelta(minutes=10)
# A schedule further ahead than this was backed off after an error: bring it back.
MAX_AHEAD = timedelta(seconds=5)
_ADVISORY_LOCK_KEY = 0x616C657274  # "alert"


def _serialize_schedulers() -> None:
    """Two workers starting together must not both find no schedule and both add one."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
    # SQLite: the transaction is BEGIN IMMEDIATE (settings), which already serializes writers.


def alert_task_ensure_scheduled(*, now: datetime | None = None) -> list[str]:
    """Leave exactly one live schedule of the alert task; say what had to be repaired."""
    now = now or timezone.now()
    repairs: list[str] = []
    with transaction.atomic():
        _serialize_schedulers()
        scheduled = Task.objects.filter(task_name=TASK_NAME)
        failed = scheduled.filter(failed_at__isnull=False).delete()[0]
        if failed:
            repairs.append(f"removed {failed} failed schedule(s)")
        live = list(scheduled.filter(failed_at__isnull=True).order_by("run_at", "id"))
        unlocked = set(Task.objects.unlocked(now).filter(pk__in=[t.pk for t in live]).values_list("pk", flat=True))
        if not live:
            evaluate_alerts(repeat=REPEAT_SECONDS, verbose_name="alert evaluation")
            repairs.append("scheduled the alert evaluation every second")
        elif len(unlocked) == len(live):
            # Only while no worker is running one: a running task is replaced by its next
            # repetition when it finishes, so "one running + one waiting" is normal, and
            # a running task must not be deleted (the library would save it again).
            keep, *extras = live
            if extras:
                # One DELETE ... WHERE unlocked: a worker that locks one meanwhile keeps it.
                deleted = Task.objects.unlocked(now).filter(pk__in=[t.pk for t in extras]).delete()[0]
                repairs.append(f"removed {deleted} duplicate schedule(s)")
            if keep.run_at > now + MAX_AHEAD or keep.repeat != REPEAT_SECONDS:
                Task.objects.unlocked(now).filter(pk=keep.pk).update(
                    run_at=min(keep.run_at, now), repeat=REPEAT_SECONDS, attempts=0
                )
                repairs.append("brought a backed-off schedule back to every second")
        CompletedTask.objects.filter(task_name=TASK_NAME, run_at__lt=now - COMPLETED_KEEP).delete()
    for repair in repairs:
        log.info("alert task: %s", repair)
    return repairs
