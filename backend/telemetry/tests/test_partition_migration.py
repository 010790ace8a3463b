"""Migration 0003 moves existing readings into the partitioned table, back again, and works without pg_partman."""
import importlib
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from devtools.migrations import migrate_to, migrate_to_latest
from telemetry import partitions
from telemetry.models import Telemetry
from telemetry.retention import readings_prune

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="the migration changes only PostgreSQL; runs in make test-postgres"),
    pytest.mark.django_db(transaction=True),
]

BEFORE = [("telemetry", "0002_rejection_digest_device_id")]
AFTER = [("telemetry", "0003_telemetry_partitioned")]
BACKFILL = datetime(2001, 6, 1, tzinfo=UTC)


@pytest.fixture
def migrated_back():
    """Start from the migration before; leave the database fully migrated for the next test."""
    yield migrate_to(BEFORE)
    migrate_to(BEFORE)
    migrate_to_latest()


def table_kind() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = 'telemetry_telemetry'::regclass")
        return cursor.fetchone()[0]


def seed_old_table(apps, now) -> list[tuple]:
    Device = apps.get_model("devices", "Device")
    Reading = apps.get_model("telemetry", "Telemetry")
    device = Device.objects.create(device_id="d1", last_seen=now)
    for ts in (BACKFILL, now - timedelta(days=3), now):
        Reading.objects.create(device=device, ts=ts, temperature=20.0, received_at=now)
    return sorted(Reading.objects.values_list("id", "ts"))


def test_existing_readings_move_into_the_partitions_and_back(migrated_back):
    now = timezone.now()
    before = seed_old_table(migrated_back, now)
    assert table_kind() == "r"

    migrate_to(AFTER)

    assert table_kind() == "p"
    assert sorted(Telemetry.objects.values_list("id", "ts")) == before
    # The backfill is older than the 7 days of past partitions: those start a week ago.
    first_partition = (now - timedelta(days=7)).astimezone(UTC)
    assert partitions.partition_names()[0] == f"telemetry_telemetry_p{first_partition:%Y_%m_%d}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT ts, tableoid::regclass::text FROM telemetry_telemetry ORDER BY ts")
        placed = cursor.fetchall()
    assert placed[0] == (BACKFILL, partitions.DEFAULT_PARTITION)
    assert [name for _, name in placed[1:]] == [f"telemetry_telemetry_p{ts:%Y_%m_%d}" for ts, _ in placed[1:]]
    # The identity goes on after the moved rows.
    assert Telemetry.objects.create(device_id="d1", ts=now + timedelta(seconds=1), received_at=now).id > before[-1][0]

    migrate_to(BEFORE)

    assert table_kind() == "r"
    assert sorted(Telemetry.objects.values_list("id", "ts"))[:3] == before
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM partman.part_config")
        assert cursor.fetchone()[0] == 0


def test_without_pg_partman_the_table_has_a_default_partition_and_retention_deletes_rows(migrated_back, monkeypatch):
    now = timezone.now()
    seed_old_table(migrated_back, now)
    migration = importlib.import_module("telemetry.migrations.0003_telemetry_partitioned")
    monkeypatch.setattr(migration, "_partman_parent", lambda *args: False)

    migrate_to(AFTER)

    assert table_kind() == "p"
    assert partitions.partition_names() == [partitions.DEFAULT_PARTITION]
    assert not partitions.partman_manages_readings()
    report = readings_prune(now=now, retention_days=2)
    assert (report.deleted, report.done) == (2, True)
    assert list(Telemetry.objects.values_list("ts", flat=True)) == [now]
