"""The background task the worker runs every second: one alert evaluation pass."""
import logging

from background_task import background
from django.db import DatabaseError, connection

from alerts import worker_metrics
from alerts.services import alerts_evaluate
from common.outages import OutageLog
from health.models import Heartbeat
from health.services import heartbeat_beat
from telemetry.retention import Retention

log = logging.getLogger("alerts")

TASK_NAME = "alerts.evaluate"
REPEAT_SECONDS = 1


_pass_outage = OutageLog(
    log,
    failed="alert evaluation failed; retrying every second",
    recovered="alert evaluation works again",
    level=logging.ERROR,
    traceback=True,
)
_prune_outage = OutageLog(log, failed="could not prune old rows or maintain partitions; retrying at the next interval")
_pruning = Retention()


@background(name=TASK_NAME)
def evaluate_alerts() -> None:
    """Evaluate alerts once, refresh the worker's heartbeat, prune old rows when due."""
    run_evaluation_pass()
    prune_old_rows_if_due()


def run_evaluation_pass() -> bool:
    """One pass that never raises, so django-background-tasks never backs off or drops the schedule.

    A failure is logged once per failing streak and reported in the heartbeat; the
    next repetition, a second later, simply tries again.
    """
    try:
        report = alerts_evaluate()
    except Exception as error:
        _pass_outage.failure(error)
        if isinstance(error, DatabaseError):
            connection.close()
        _beat("failing", {"error": str(error)[:300]})
        return False
    _pass_outage.success()
    worker_metrics.record_pass(report)
    _beat("running", {
        "pass_ms": round(report.seconds * 1000, 1),
        "readings": report.readings,
        "alerts": {"HIGH_TEMP": report.high_temp, "OFFLINE": report.offline, "ONLINE": report.online,
                   "LOW_BATTERY": report.low_battery, "ANOMALY": report.anomaly},
    })
    return True


def prune_old_rows_if_due() -> None:
    """Delete expired rejections and readings, maintain partitions; a failure never fails the alert pass."""
    try:
        _pruning.run_if_due()
    except Exception as error:
        _prune_outage.failure(error)
        if isinstance(error, DatabaseError):
            connection.close()
        return
    _prune_outage.success()


def _beat(state: str, details: dict) -> None:
    try:
        heartbeat_beat(process=Heartbeat.Process.WORKER, state=state, details=details)
    except DatabaseError as error:
        log.debug("could not write the worker heartbeat: %s", error)
        connection.close()
