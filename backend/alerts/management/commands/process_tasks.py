"""`manage.py process_tasks`: django-background-tasks' worker, with a clean stop and one schedule.

It replaces the library's command (the alerts app is listed before background_task)
to add what the library lacks: SIGTERM and SIGINT end the loop after the task in hand,
within 10 s and with exit code 0; the repeating alert task is scheduled when the worker
starts and repaired every few seconds (alerts.schedule); and an idle worker wakes when
the next task is due instead of sleeping past it. Tasks still run through the library.
"""
import logging
import os
import signal
import threading
import time
from datetime import timedelta

from background_task.management.commands import process_tasks
from background_task.models import Task
from background_task.tasks import autodiscover, tasks
from django.conf import settings
from django.core.management.base import CommandError
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from alerts import worker_metrics
from alerts.schedule import alert_task_ensure_scheduled
from alerts.worker_threads import worker_threads_start
from common.outages import OutageLog
from health.models import Heartbeat
from health.services import heartbeat_beat

log = logging.getLogger("alerts.worker")

REPAIR_SECONDS = 5.0
# A pass is bounded well under this; past it the process exits anyway. Nothing is half
# written: every pass commits its alerts and state changes in single transactions.
SHUTDOWN_GRACE_SECONDS = 8.0
MIN_IDLE_SECONDS = 0.01
# The threads beside the loop (the notification drain's sends in flight) may finish within this
# after a stop (within the grace).
WORKER_THREADS_STOP_SECONDS = 6.0


class Command(process_tasks.Command):
    help = "Run scheduled background tasks (the alert evaluation, every second) until SIGTERM or SIGINT."

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.database_outage = OutageLog(
            log, failed="the worker cannot use the database; it keeps retrying", recovered="the database is back"
        )

    def handle(self, *args, duration, sleep, queue, log_std, dev, **options):
        if dev:
            raise CommandError("--dev is not supported by this worker; restart it after a code change")
        if log_std:
            process_tasks._configure_log_std()
        self.queue = queue
        self.stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)
        autodiscover()
        if settings.WORKER_METRICS_PORT:
            worker_metrics.install(settings.WORKER_METRICS_PORT)
        # Threads of their own (alerts.worker_threads: the notification drain), so a slow
        # webhook receiver never delays a pass.
        threads = worker_threads_start()
        started = time.monotonic()
        next_repair = started
        log.info("worker started (pid %d)", os.getpid())
        while not self.stop.is_set():
            if 0 < duration < time.monotonic() - started:
                break
            if time.monotonic() >= next_repair:
                self.repair_schedule()
                next_repair = time.monotonic() + REPAIR_SECONDS
            if self.run_next_task():
                continue
            close_old_connections()
            self.stop.wait(self.idle_seconds(sleep))
        threads_deadline = time.monotonic() + WORKER_THREADS_STOP_SECONDS
        for thread in threads:
            thread.stop(timeout=max(0.0, threads_deadline - time.monotonic()))
        self._beat_stopped()
        log.info("worker stopped")

    def repair_schedule(self) -> bool:
        """Make sure the alert task is scheduled exactly once; True when something was repaired."""
        try:
            repaired = bool(alert_task_ensure_scheduled())
        except DatabaseError as error:
            self.database_outage.failure(error)
            connection.close()
            return False
        self.database_outage.success()
        return repaired

    def run_next_task(self) -> bool:
        """Run one due task through the library; True when there was one."""
        try:
            ran = tasks.run_next_task(self.queue)
        except DatabaseError as error:
            self.database_outage.failure(error)
            connection.close()
            return False
        self.database_outage.success()
        return ran

    def idle_seconds(self, sleep: float) -> float:
        """Until the next task this worker knows is due, but never longer than --sleep."""
        now = timezone.now()
        try:
            upcoming = Task.objects.unlocked(now).filter(task_name__in=list(tasks._tasks), failed_at=None)
            if self.queue:
                upcoming = upcoming.filter(queue=self.queue)
            next_run = upcoming.order_by("run_at").values_list("run_at", flat=True).first()
        except DatabaseError as error:
            self.database_outage.failure(error)
            connection.close()
            return sleep
        if next_run is None:
            return sleep
        return min(sleep, max(MIN_IDLE_SECONDS, (next_run - now) / timedelta(seconds=1)))

    def _on_signal(self, signum, frame) -> None:
        if self.stop.is_set():
            return
        log.info("received %s, stopping after the task in hand", signal.Signals(signum).name)
        self.stop.set()
        watchdog = threading.Timer(SHUTDOWN_GRACE_SECONDS, self._exit_now)
        watchdog.daemon = True
        watchdog.start()

    @staticmethod
    def _exit_now() -> None:
        log.warning("the task in hand outlived %.0f s; exiting without it (its transaction rolls back)",
                    SHUTDOWN_GRACE_SECONDS)
        logging.shutdown()
        os._exit(0)

    @staticmethod
    def _beat_stopped() -> None:
        try:
            heartbeat_beat(process=Heartbeat.Process.WORKER, state="stopped")
        except DatabaseError as error:
            log.warning("could not record the worker's stop: %s", error)
