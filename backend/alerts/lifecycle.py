"""Raising and clearing alerts: the two writes every step shares.

At most one alert per device and type is ACTIVE (the `alert_one_active` constraint);
a step clears the ACTIVE one before it raises the next, in the same transaction.
"""
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, connections

from alerts.models import Alert
from alerts.rules import SEVERITY

DEVICES_PER_QUERY = 1000


def alert_new(device_id: str, alert_type: str, *, ts: datetime, payload: dict, cleared: bool = False) -> Alert:
    """An unsaved alert with its type's severity; `cleared` makes it born CLEARED at `ts`."""
    return Alert(
        device_id=device_id, alert_type=alert_type, ts=ts, payload=payload, severity=SEVERITY[alert_type],
        status=Alert.Status.CLEARED if cleared else Alert.Status.ACTIVE, cleared_at=ts if cleared else None,
    )


def alerts_insert(alerts: list[Alert]) -> list[Alert]:
    """Save new alerts, a multi-row INSERT ... RETURNING id per batch; `alerts`, with their ids.

    What bulk_create does, at a fifth of its cost: bulk_create's compiler renders each
    value of each object anew (130 ms for 1,000 alerts on SQLite here, most of the time
    an OFFLINE pass of 10,000 devices held the write lock), while the alerts of one step
    differ only in device and payload; here a value shared by several is prepared once.
    """
    if not alerts:
        return alerts
    db = connections[DEFAULT_DB_ALIAS]
    fields = [field for field in Alert._meta.concrete_fields if not field.primary_key]
    quote = db.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    head = f"INSERT INTO {quote(Alert._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
    tail = f" RETURNING {quote(Alert._meta.pk.column)}"
    prepared: dict[tuple[str, object], object] = {}

    def db_value(field, alert):
        value = field.pre_save(alert, True)
        if value is None or isinstance(value, dict):
            return field.get_db_prep_save(value, db)
        key = (field.attname, value)
        if key not in prepared:
            prepared[key] = field.get_db_prep_save(value, db)
        return prepared[key]

    batch = db.ops.bulk_batch_size(fields, alerts)
    with db.cursor() as cursor:
        for start in range(0, len(alerts), batch):
            chunk = alerts[start : start + batch]
            cursor.execute(head + ", ".join([row] * len(chunk)) + tail,
                           [db_value(field, alert) for alert in chunk for field in fields])
            # Rows come back in the order of VALUES, as bulk_create relies on too.
            for alert, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                alert.pk = pk
                alert._state.adding, alert._state.db = False, db.alias
    return alerts


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
