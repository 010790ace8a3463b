"""Reads of the alerts app."""
from django.db.models import QuerySet

from alerts.models import Alert, AlertRule
from alerts.thresholds import FIELDS, defaults_from_settings, rule_book_build


def alert_list(
    *, limit: int, device_id: str | None = None, alert_type: str | None = None, status: str | None = None,
    acknowledged: bool | None = None, severity: str | None = None,
) -> QuerySet[Alert]:
    """The newest alerts, optionally of one device, type, status, severity, acknowledged or not."""
    alerts = Alert.objects.select_related("acknowledged_by")
    if device_id is not None:
        alerts = alerts.filter(device_id=device_id)
    if alert_type is not None:
        alerts = alerts.filter(alert_type=alert_type)
    if status is not None:
        alerts = alerts.filter(status=status)
    if acknowledged is not None:
        alerts = alerts.filter(acknowledged_at__isnull=not acknowledged)
    if severity is not None:
        alerts = alerts.filter(severity=severity)
    return alerts.order_by("-ts", "-id")[:limit]


def alert_active_count() -> int:
    """How many alerts are ACTIVE now (read from the partial index of ACTIVE alerts)."""
    return Alert.objects.filter(status=Alert.Status.ACTIVE).count()


def alert_get(*, alert_id: int) -> Alert | None:
    """One alert, or None."""
    return Alert.objects.select_related("acknowledged_by").filter(pk=alert_id).first()


def _rule_row(rule: AlertRule | None) -> dict:
    return {name: getattr(rule, name) if rule else None for name in FIELDS}


def _effective(book, *, device_id: str = "", device_type: str | None = None) -> dict:
    return {name: dict(zip(("value", "source"), book.value(name, device_id, device_type), strict=True))
            for name in FIELDS}


def _book():
    rows = AlertRule.objects.values("device_id", "device_type", *FIELDS)
    return rule_book_build(rows, defaults_from_settings())


def rule_of_device_type(*, device_type: str) -> dict:
    """A device type's rule (null fields inherit the default) and the values in force for it."""
    rule = AlertRule.objects.filter(device_type=device_type).first()
    return {"device_type": device_type, **_rule_row(rule), "effective": _effective(_book(), device_type=device_type)}


def rule_of_device(*, device_id: str, device_type: str) -> dict:
    """A device's own rule (null fields inherit its type's, then the default) and the values in force."""
    rule = AlertRule.objects.filter(device_id=device_id).first()
    effective = _effective(_book(), device_id=device_id, device_type=device_type)
    return {"device_id": device_id, **_rule_row(rule), "effective": effective}


def rules_overview() -> dict:
    """The defaults and every rule, device types and devices."""
    book = _book()
    rules = list(AlertRule.objects.select_related("device").order_by("device_type", "device_id"))
    return {
        "defaults": book.defaults,
        "device_types": [
            {"device_type": r.device_type, **_rule_row(r), "effective": _effective(book, device_type=r.device_type)}
            for r in rules if r.device_type is not None
        ],
        "devices": [
            {"device_id": r.device_id, **_rule_row(r),
             "effective": _effective(book, device_id=r.device_id, device_type=r.device.device_type)}
            for r in rules if r.device_id is not None
        ],
    }
