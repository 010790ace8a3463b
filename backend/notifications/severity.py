"""Alert severities and events, read so that alerts with or without a `severity` field both work."""
from alerts.models import Alert

CRITICAL, WARNING, INFO = "critical", "warning", "info"
SEVERITIES = (CRITICAL, WARNING, INFO)
SEVERITY_CHOICES = [(value, value) for value in SEVERITIES]
_RANK = {INFO: 0, WARNING: 1, CRITICAL: 2}

# Until alerts carry their own severity, it follows from the type.
SEVERITY_BY_TYPE = {
    "HIGH_TEMP": CRITICAL,
    "OFFLINE": CRITICAL,
    "ONLINE": INFO,
    "LOW_BATTERY": WARNING,
    "ANOMALY": WARNING,
}

RAISED, CLEARED = "raised", "cleared"
EVENT_CHOICES = [(RAISED, RAISED), (CLEARED, CLEARED)]


def alert_severity(alert) -> str:
    """The alert's own severity when it has one, else the default of its type (warning if unknown)."""
    severity = getattr(alert, "severity", None)
    if severity in _RANK:
        return severity
    return SEVERITY_BY_TYPE.get(alert.alert_type, WARNING)


def severity_at_least(severity: str, minimum: str) -> bool:
    """Whether `severity` is `minimum` or more urgent."""
    return _RANK[severity] >= _RANK[minimum]


def known_alert_types() -> list[str]:
    """Alert types a subscription may filter on: the model's, and those announced for it."""
    return sorted(set(Alert.Type.values) | set(SEVERITY_BY_TYPE))
