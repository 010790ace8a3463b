"""The log lines of raised alerts, bounded per statement."""
import logging

log = logging.getLogger("alerts")

# One log line per alert, up to this many per statement; a mass event adds one summary line.
LOGGED_PER_STATEMENT = 20


def log_alerts(alert_type: str, details: list[tuple[str, str]]) -> None:
    """A line per alert for the first few of a statement, then one line for the rest."""
    for device_id, detail in details[:LOGGED_PER_STATEMENT]:
        log.info("%s %s (%s)", alert_type, device_id, detail)
    if len(details) > LOGGED_PER_STATEMENT:
        log.info("%s: %d more devices in the same statement", alert_type, len(details) - LOGGED_PER_STATEMENT)
