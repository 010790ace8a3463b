"""Which subscriptions want which alerts (pure)."""
from notifications.severity import severity_at_least


def subscription_wants(*, alert_types: list[str], min_severity: str, alert_type: str, severity: str) -> bool:
    """True when the alert's type is among `alert_types` (empty: every type) and its severity reaches the minimum."""
    if alert_types and alert_type not in alert_types:
        return False
    return severity_at_least(severity, min_severity)
