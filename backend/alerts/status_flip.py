"""A device step's compare-and-set: flip the status of the devices due, in one statement."""
from datetime import UTC, datetime

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from alerts.rules import NEVER_SEEN
from devices.models import Device


def devices_flip_status(
    due: QuerySet, *, old: str, new: str, limit: int, columns: tuple[str, ...] = ("last_seen",)
) -> list[tuple]:
    """Set `new` on the first `limit` devices of `due` whose status is still `old`; (pk, *columns) of each changed.

    `columns` are datetime fields of Device, returned aware. A device set OFFLINE keeps
    the last_seen it has then as its `offline_last_seen`, in the same statement.

    Call it inside a transaction. One `UPDATE ... WHERE pk IN (the first `limit` of `due`
    whose status is `old`, FOR UPDATE SKIP LOCKED) RETURNING`: what it returns is what it
    changed, and PostgreSQL tests the status again on the row it locks, so a second
    worker, which skips the rows this one locked, or a re-run never flips a device twice;
    the rows stay locked until commit (SQLite holds its write lock from BEGIN), so the
    ingest cannot move last_seen between the flip and its alerts.
    A SELECT of the ids and an UPDATE naming 1,000 of them cost five times as much.
    """
    picked = due.filter(status=old).select_for_update(skip_locked=True).values("pk")[:limit]
    picked_sql, picked_params = picked.query.sql_with_params()
    quote = connection.ops.quote_name
    column = lambda name: quote(Device._meta.get_field(name).column)  # noqa: E731
    status, pk = column("status"), quote(Device._meta.pk.column)
    assignments, params = f"{status} = %s", [new]
    if new == Device.Status.OFFLINE:
        assignments += f", {column('offline_last_seen')} = COALESCE({column('last_seen')}, %s)"
        params.append(connection.ops.adapt_datetimefield_value(NEVER_SEEN))
    # The status test stays inside the picked rows' query: beside the IN, SQLite would walk
    # the (status, last_seen) index over every device of that status instead of the keys.
    sql = (f"UPDATE {quote(Device._meta.db_table)} SET {assignments} WHERE {pk} IN ({picked_sql}) "
           f"RETURNING {pk}, {', '.join(column(name) for name in columns)}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *picked_params])
        rows = cursor.fetchall()
    return [(device_id, *map(_aware, values)) for device_id, *values in rows]


def _aware(value: datetime | None) -> datetime | None:
    # SQLite's rows come back naive (stored in UTC); PostgreSQL's aware.
    if value is None or not timezone.is_naive(value):
        return value
    return value.replace(tzinfo=UTC)
