"""Raising and clearing alerts: the two writes every step shares.

At most one alert per device and type is ACTIVE (the `alert_one_active` constraint);
a step clears the ACTIVE one before it raises the next, in the same transaction.
"""
from datetime import datetime

from alerts.models import Alert
from alerts.rules import SEVERITY

DEVICES_PER_QUERY = 1000


def alert_new(device_id: str, alert_type: str, *, ts: datetime, payload: dict, cleared: bool = False) -> Alert:
    """An unsaved alert with its type's severity; `cleared` makes it born CLEARED at `ts`."""
    return Alert(
        device_id=device_id, alert_type=alert_type, ts=ts, payload=payload, severity=SEVERITY[alert_type],
        status=Alert.Status.CLEARED if cleared else Alert.Status.ACTIVE, cleared_at=ts if cleared else None,
    )


def alerts_clear(device_ids, alert_type: str, *, now: datetime) -> list[Alert]:
    """Clear the ACTIVE alert of `alert_type` of each of these devices (if any); the alerts cleared."""
    ids = sorted(set(device_ids))
    cleared: list[Alert] = []
    for start in range(0, len(ids), DEVICES_PER_QUERY):
        # Served by the partial unique index of the constraint (device, alert_type) WHERE ACTIVE.
        active = list(Alert.objects.filter(
            device_id__in=ids[start : start + DEVICES_PER_QUERY], alert_type=alert_type, status=Alert.Status.ACTIVE
        ))
        if not active:
            continue
        Alert.objects.filter(pk__in=[a.pk for a in active], status=Alert.Status.ACTIVE).update(
            status=Alert.Status.CLEARED, cleared_at=now
        )
        for alert in active:
            alert.status, alert.cleared_at = Alert.Status.CLEARED, now
        cleared += active
    return cleared
