"""The background task that deletes a decommissioned device's history, a few rows at a time.

`DELETE /api/devices/{id}/?purge=true` queues it in the same transaction as the
decommission; the alert worker (process_tasks) runs it. Each run deletes for at most
PURGE_BUDGET_SECONDS, in statements of PURGE_BATCH_ROWS rows, each its own short
transaction so SQLite's write lock goes to the ingest between them, then queues the rest.
"""
import logging
import time
from datetime import datetime

from background_task import background
from django.db.models import QuerySet

from devices.history import device_history

log = logging.getLogger("devices.purge")

TASK_NAME = "devices.purge_history"
PURGE_BATCH_ROWS = 2000
PURGE_BUDGET_SECONDS = 1.0


def _delete_in_batches(rows: QuerySet, *, batch_rows: int, deadline: float) -> tuple[int, bool]:
    """Delete `rows` batch_rows at a time until none are left (True) or the deadline passes (False)."""
    deleted = 0
    while True:
        count = rows.model.objects.filter(pk__in=rows.values("pk")[:batch_rows]).delete()[0]
        deleted += count
        if count < batch_rows:
            return deleted, True
        if time.monotonic() >= deadline:
            return deleted, False


def device_history_purge(*, device_id: str, cutoff: datetime, batch_rows: int = PURGE_BATCH_ROWS,
                         budget_seconds: float = PURGE_BUDGET_SECONDS) -> tuple[int, bool]:
    """Delete the device's history (devices.history) received up to `cutoff`; (rows deleted, done)."""
    deadline = time.monotonic() + budget_seconds
    total = 0
    for rows in device_history(device_id=device_id, cutoff=cutoff):
        deleted, done = _delete_in_batches(rows, batch_rows=batch_rows, deadline=deadline)
        total += deleted
        if not done:
            return total, False
    return total, True


@background(name=TASK_NAME)
def purge_device_history(device_id: str, cutoff: str) -> None:
    """Delete one budget's worth of the device's history; queue itself again while some is left."""
    deleted, done = device_history_purge(device_id=device_id, cutoff=datetime.fromisoformat(cutoff))
    log.info("purged %d rows of %s's history%s", deleted, device_id, "" if done else "; more to go")
    if not done:
        purge_device_history(device_id, cutoff)
