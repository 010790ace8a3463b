"""Raising and clearing alerts: the two writes every step shares.

At most one alert per device and type is ACTIVE (the `alert_one_active` constraint);
a step clears the ACTIVE one before it raises the next, in the same transaction.
"""
import json
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


def alerts_raise(alert_type: str, *, ts: datetime, payloads: list[tuple[str, dict]], cleared: bool = False
                 ) -> list[Alert]:
    """Save one alert of `alert_type` raised at `ts` per (device, payload), as alert_new makes them; the alerts.

    One INSERT ... RETURNING id per batch. bulk_create renders each value of each object
    anew (130 ms for 1,000 alerts on SQLite here, most of the time an OFFLINE pass of
    10,000 devices held the write lock); a device step's alerts differ only in device and
    payload, so every other value is prepared once. On PostgreSQL the devices and
    payloads go as two arrays (`SELECT ... FROM unnest(...)`): a VALUES list of 1,000
    rows is 9,000 parameters, which took the server 60 to 140 ms to parse and plan
    against 15 to 20 ms to insert the rows.
    """
    if not payloads:
        return []
    db = connections[DEFAULT_DB_ALIAS]
    shared = alert_new("", alert_type, ts=ts, payload={}, cleared=cleared)
    fields = [field for field in Alert._meta.concrete_fields if not field.primary_key]
    varying = ("device_id", "payload")
    fixed = [field for field in fields if field.attname not in varying]
    fixed_values = [field.get_db_prep_save(field.pre_save(shared, True), db) for field in fixed]
    payload_field = Alert._meta.get_field("payload")
    quote = db.ops.quote_name
    columns = [Alert._meta.get_field("device").column, payload_field.column, *(field.column for field in fixed)]
    head = f"INSERT INTO {quote(Alert._meta.db_table)} ({', '.join(map(quote, columns))}) "
    tail = f" RETURNING {quote(Alert._meta.pk.column)}"
    # The saved alerts as a query would load them: every field in the model's order.
    names = [field.attname for field in Alert._meta.concrete_fields]
    template = [getattr(shared, name) for name in names]
    at = {name: names.index(name) for name in (Alert._meta.pk.attname, *varying)}
    if db.vendor == "postgresql":
        batch = len(payloads)
        constants = ", ".join(f"%s::{field.cast_db_type(db)}" for field in fixed)
        # WITH ORDINALITY ... ORDER BY: rows are inserted, and returned, in the order of the arrays.
        select = (f"SELECT v.device_id, v.payload::jsonb, {constants} FROM unnest(%s::text[], %s::text[])"
                  " WITH ORDINALITY AS v(device_id, payload, n) ORDER BY v.n")
    else:
        batch = db.ops.bulk_batch_size(fields, payloads)
        row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    raised: list[Alert] = []
    with db.cursor() as cursor:
        for start in range(0, len(payloads), batch):
            chunk = payloads[start : start + batch]
            if db.vendor == "postgresql":
                encode = payload_field.encoder
                cursor.execute(head + select + tail, [
                    *fixed_values, [device_id for device_id, _ in chunk],
                    [json.dumps(payload, cls=encode) for _, payload in chunk],
                ])
            else:
                params = []
                for device_id, payload in chunk:
                    params += [device_id, payload_field.get_db_prep_save(payload, db), *fixed_values]
                # Rows come back in the order of VALUES, as bulk_create relies on too.
                cursor.execute(head + "VALUES " + ", ".join([row] * len(chunk)) + tail, params)
            for (device_id, payload), (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                values = template.copy()
                values[at["id"]], values[at["device_id"]], values[at["payload"]] = pk, device_id, payload
                raised.append(Alert.from_db(db.alias, names, values))
    return raised


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
