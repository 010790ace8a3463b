"""Reads of the alerts app."""
from django.db.models import QuerySet

from alerts.models import Alert


def alert_list(*, limit: int, device_id: str | None = None, alert_type: str | None = None) -> QuerySet[Alert]:
    """The newest alerts, optionally of one device and/or one type."""
    alerts = Alert.objects.all()
    if device_id is not None:
        alerts = alerts.filter(device_id=device_id)
    if alert_type is not None:
        alerts = alerts.filter(alert_type=alert_type)
    return alerts.order_by("-ts", "-id")[:limit]
