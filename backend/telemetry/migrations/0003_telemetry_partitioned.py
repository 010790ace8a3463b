"""On PostgreSQL, readings move to a table range-partitioned by day on `ts`.

pg_partman creates and maintains the daily partitions when the extension is installed
(the worker runs its maintenance, see telemetry.partitions); without it the table has
only its default partition and retention deletes rows in batches instead. The primary
key becomes (id, ts), as PostgreSQL requires the partition key in every unique key;
`id` stays unique through its identity sequence. Existing rows are copied into the new
table; the reverse migration copies them back into a plain table. SQLite is unchanged.
"""
from django.db import DatabaseError, migrations, transaction

# Partitions are made from this many days before the migration (or from the day of the
# oldest reading, when that is later), so a device sending the readings it buffered while
# offline finds their partitions; older readings go to the default partition.
PAST_DAYS = 7
PREMAKE_DAYS = 4

COLUMNS = "id, device_id, ts, temperature, humidity, battery, extra, received_at"

PARTITIONED_TABLE = """
ALTER TABLE telemetry_telemetry RENAME TO telemetry_telemetry_unpartitioned;
ALTER TABLE telemetry_telemetry_unpartitioned RENAME CONSTRAINT telemetry_telemetry_pkey
    TO telemetry_telemetry_unpartitioned_pkey;
ALTER TABLE telemetry_telemetry_unpartitioned RENAME CONSTRAINT telemetry_device_ts_unique
    TO telemetry_unpartitioned_device_ts_unique;
CREATE TABLE telemetry_telemetry (
    LIKE telemetry_telemetry_unpartitioned INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING STORAGE,
    CONSTRAINT telemetry_telemetry_pkey PRIMARY KEY (id, ts),
    CONSTRAINT telemetry_device_ts_unique UNIQUE (device_id, ts),
    CONSTRAINT telemetry_telemetry_device_id_fk FOREIGN KEY (device_id)
        REFERENCES devices_device (device_id) DEFERRABLE INITIALLY DEFERRED
) PARTITION BY RANGE (ts);
"""

COPY_ROWS = f"""
INSERT INTO telemetry_telemetry ({COLUMNS}) SELECT {COLUMNS} FROM telemetry_telemetry_unpartitioned;
SELECT setval(pg_get_serial_sequence('telemetry_telemetry', 'id'),
              (SELECT COALESCE(max(id), 0) + 1 FROM telemetry_telemetry), false);
DROP TABLE telemetry_telemetry_unpartitioned;
"""

PARTMAN_PARENT = """
SELECT {partman}.create_parent(
    p_parent_table := current_schema() || '.telemetry_telemetry', p_control := 'ts', p_type := 'native',
    p_interval := 'daily', p_premake := %s, p_start_partition := %s, p_jobmon := false);
-- Partitions follow the clock, not the newest reading, so a quiet fleet never writes into
-- the default partition; retention drops a partition's table, it does not keep it detached.
UPDATE {partman}.part_config
SET infinite_time_partitions = true, retention_keep_table = false, retention_keep_index = false
WHERE parent_table = current_schema() || '.telemetry_telemetry';
"""


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(PARTITIONED_TABLE)
        cursor.execute(
            "SELECT to_char(greatest(date_trunc('day', now()) - make_interval(days => %s),"
            " date_trunc('day', min(ts))), 'YYYY-MM-DD') FROM telemetry_telemetry_unpartitioned",
            [PAST_DAYS],
        )
        start = cursor.fetchone()[0]
        if not _partman_parent(schema_editor, cursor, start):
            cursor.execute("CREATE TABLE telemetry_telemetry_default PARTITION OF telemetry_telemetry DEFAULT")
        cursor.execute(COPY_ROWS)


def _partman_parent(schema_editor, cursor, start: str) -> bool:
    """Hand the table to pg_partman when it is installed (or can be); False when it cannot."""
    schema = _partman_schema(schema_editor, cursor)
    if schema is None:
        cursor.execute("SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'pg_partman')")
        if not cursor.fetchone()[0]:
            return False
        try:
            # A savepoint: without the right to create the extension, the migration goes on without it.
            with transaction.atomic():
                cursor.execute("CREATE SCHEMA IF NOT EXISTS partman")
                cursor.execute("CREATE EXTENSION pg_partman SCHEMA partman")
        except DatabaseError:
            return False
        schema = _partman_schema(schema_editor, cursor)
    cursor.execute(PARTMAN_PARENT.format(partman=schema), [PREMAKE_DAYS, start])
    return True


def _partman_schema(schema_editor, cursor) -> str | None:
    # A DBA may have installed the extension, in a schema of their choice, before the migration.
    cursor.execute("SELECT nspname FROM pg_extension JOIN pg_namespace ON pg_namespace.oid = extnamespace"
                   " WHERE extname = 'pg_partman'")
    row = cursor.fetchone()
    return None if row is None else schema_editor.quote_name(row[0])


UNPARTITIONED_TABLE = f"""
CREATE TABLE telemetry_telemetry_unpartitioned (
    LIKE telemetry_telemetry INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING STORAGE,
    CONSTRAINT telemetry_telemetry_unpartitioned_pkey PRIMARY KEY (id),
    CONSTRAINT telemetry_unpartitioned_device_ts_unique UNIQUE (device_id, ts),
    CONSTRAINT telemetry_telemetry_unpartitioned_device_id_fk FOREIGN KEY (device_id)
        REFERENCES devices_device (device_id) DEFERRABLE INITIALLY DEFERRED
);
INSERT INTO telemetry_telemetry_unpartitioned ({COLUMNS}) SELECT {COLUMNS} FROM telemetry_telemetry;
SELECT setval(pg_get_serial_sequence('telemetry_telemetry_unpartitioned', 'id'),
              (SELECT COALESCE(max(id), 0) + 1 FROM telemetry_telemetry_unpartitioned), false);
DROP TABLE telemetry_telemetry CASCADE;
ALTER TABLE telemetry_telemetry_unpartitioned RENAME TO telemetry_telemetry;
ALTER TABLE telemetry_telemetry RENAME CONSTRAINT telemetry_telemetry_unpartitioned_pkey TO telemetry_telemetry_pkey;
ALTER TABLE telemetry_telemetry RENAME CONSTRAINT telemetry_unpartitioned_device_ts_unique
    TO telemetry_device_ts_unique;
"""


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(UNPARTITIONED_TABLE)
        schema = _partman_schema(schema_editor, cursor)
        if schema is not None:
            # Leftover template table and configuration; the extension stays for other tables.
            cursor.execute(
                f"DELETE FROM {schema}.part_config WHERE parent_table = current_schema() || '.telemetry_telemetry'"
                " RETURNING template_table")
            for (template,) in cursor.fetchall():
                cursor.execute(f"DROP TABLE IF EXISTS {template}")


class Migration(migrations.Migration):

    dependencies = [
        ("telemetry", "0002_rejection_digest_device_id"),
        ("devices", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(partition, unpartition),
    ]
