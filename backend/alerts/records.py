"""Rows every evaluation step writes: device alert state, and the log line of each alert."""
import logging

from alerts.models import DeviceAlertState

log = logging.getLogger("alerts")

# One log line per alert, up to this many per statement; a mass event adds one summary line.
LOGGED_PER_STATEMENT = 20


def ensure_states(device_ids: list[str]) -> None:
    """Create the state rows these devices lack, so that set-based updates can follow."""
    have = set(DeviceAlertState.objects.filter(pk__in=device_ids).values_list("pk", flat=True))
    missing = [DeviceAlertState(device_id=pk) for pk in device_ids if pk not in have]
    if missing:
        DeviceAlertState.objects.bulk_create(missing, ignore_conflicts=True)


def log_alerts(alert_type: str, details: list[tuple[str, str]]) -> None:
    """A line per alert for the first few of a statement, then one line for the rest."""
    for device_id, detail in details[:LOGGED_PER_STATEMENT]:
        log.info("%s %s (%s)", alert_type, device_id, detail)
    if len(details) > LOGGED_PER_STATEMENT:
        log.info("%s: %d more devices in the same statement", alert_type, len(details) - LOGGED_PER_STATEMENT)
