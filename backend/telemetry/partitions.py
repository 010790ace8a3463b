"""The readings table's partitions on PostgreSQL, kept by pg_partman (see migration 0003).

The worker calls `partitions_maintain` every hour: pg_partman's run_maintenance premakes
the coming days' partitions and, with a retention, drops the tables of partitions that
are wholly older than it. Rows of the default partition (readings from before the first
partition, such as a backfill from years ago) are never dropped with a partition: the
readings prune deletes them in batches below `rows_cutoff`.
"""
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction

TABLE = "telemetry_telemetry"
DEFAULT_PARTITION = "telemetry_telemetry_default"
LOCK_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class MaintenanceReport:
    dropped: int
    created: int


def partman_manages_readings() -> bool:
    """True when pg_partman is installed and keeps the readings table's partitions."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_partman')")
        if not cursor.fetchone()[0]:
            return False
        cursor.execute(_in_partman("SELECT EXISTS (SELECT FROM {partman}.part_config WHERE parent_table = %s)"),
                       [_parent()])
        return cursor.fetchone()[0]


def partition_names() -> list[str]:
    """The readings table's partitions, oldest first, the default partition last (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT child.relname FROM pg_inherits JOIN pg_class child ON child.oid = pg_inherits.inhrelid"
            " WHERE pg_inherits.inhparent = %s::regclass"
            " ORDER BY child.relname = %s, pg_get_expr(child.relpartbound, child.oid)",
            [TABLE, DEFAULT_PARTITION],
        )
        return [name for (name,) in cursor.fetchall()]


def partitions_maintain(*, retention_days: int) -> MaintenanceReport:
    """Set pg_partman's retention (0 keeps everything) and run its maintenance for the readings table."""
    before = set(partition_names())
    with transaction.atomic(), connection.cursor() as cursor:
        # Dropping a partition locks the whole table for an instant; rather than queue the
        # ingest behind a long read, give up and try again at the next maintenance.
        cursor.execute("SET LOCAL lock_timeout = %s", [f"{int(LOCK_TIMEOUT_SECONDS * 1000)}ms"])
        cursor.execute(_in_partman("UPDATE {partman}.part_config SET retention = %s WHERE parent_table = %s"),
                       [f"{retention_days} days" if retention_days else None, _parent()])
        cursor.execute(_in_partman("SELECT {partman}.run_maintenance(%s, p_analyze := false, p_jobmon := false)"),
                       [_parent()])
    after = set(partition_names())
    return MaintenanceReport(dropped=len(before - after), created=len(after - before))


def rows_cutoff(cutoff: datetime) -> datetime:
    """The instant below which readings are deleted row by row rather than dropped with their partition.

    With pg_partman that is the start of the oldest partition (what lies below it is in the
    default partition), so a partition that is only partly expired waits for its drop.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _in_partman("SELECT min(info.child_start_time) FROM {partman}.show_partitions(%s) AS child,"
                        " LATERAL {partman}.show_partition_info(child.partition_schemaname || '.'"
                        " || child.partition_tablename, p_parent_table := %s) AS info"),
            [_parent(), _parent()],
        )
        oldest = cursor.fetchone()[0]
    return cutoff if oldest is None else min(cutoff, oldest)


def _parent() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return f"{cursor.fetchone()[0]}.{TABLE}"


def _in_partman(sql: str) -> str:
    # The migration installs the extension in the schema `partman`; a DBA may have chosen another.
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_extension JOIN pg_namespace ON pg_namespace.oid = extnamespace"
                       " WHERE extname = 'pg_partman'")
        return sql.format(partman=connection.ops.quote_name(cursor.fetchone()[0]))
