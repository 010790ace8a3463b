"""Waiting on the real worker process (`manage.py process_tasks`) through the heartbeat each alert pass writes."""
from django.conf import settings

from devtools.waiting import wait_until


def worker_heartbeat():
    """When the worker last finished an alert pass (None before its first)."""
    from health.models import Heartbeat

    return Heartbeat.objects.filter(process=Heartbeat.Process.WORKER).values_list("updated_at", flat=True).first()


def wait_for_worker_passes(count: int = 1) -> None:
    """Let the worker write `count` more heartbeats (one per alert pass, every second).

    A worker started after one was killed may first wait up to MAX_RUN_TIME for the dead
    worker's lock on the alert task (docs/alerts.md), hence the long timeout.
    """
    for _ in range(count):
        before = worker_heartbeat()
        wait_until(lambda: worker_heartbeat() != before, timeout=settings.MAX_RUN_TIME + 10,
                   message="the worker wrote no heartbeat")
