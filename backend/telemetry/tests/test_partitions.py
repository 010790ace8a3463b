"""On PostgreSQL readings live in daily partitions kept by pg_partman; retention drops old ones whole."""
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from devices.models import Device
from devtools.query_plans import plans_of
from telemetry import partitions, retention, selectors
from telemetry.models import Telemetry
from telemetry.payload import Reading
from telemetry.retention import PartitionMaintenance, readings_prune
from telemetry.services import telemetry_store_batch

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="PostgreSQL partitions; runs in make test-postgres"),
    pytest.mark.django_db,
]


def partition_of(moment: datetime) -> str:
    return f"telemetry_telemetry_p{moment.astimezone(UTC):%Y_%m_%d}"


def sql(query: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def create_partition_for(moment: datetime) -> None:
    """A past day's partition, made by pg_partman as the migration makes them."""
    sql("SELECT partman.create_partition_time('public.telemetry_telemetry', ARRAY[date_trunc('day', %s::timestamptz)])", [moment])


def store(*pairs: tuple[str, datetime]) -> int:
    """Store readings as the ingest does; the number actually stored."""
    now = timezone.now()
    readings = [(Reading(device_id=device_id, ts=ts, temperature=21.0, humidity=None, battery=None, extra=None), now)
                for device_id, ts in pairs]
    stored = telemetry_store_batch(readings=readings, rejections=[], known_device_ids=set()).stored
    # The test's transaction stands for the ingest's commit: the deferred foreign-key checks
    # run now, as they would at the commit, so a partition can be dropped later in the test.
    sql("SET CONSTRAINTS ALL IMMEDIATE")
    return stored


def stored_in(device_id: str) -> list[tuple[datetime, str]]:
    return sql("SELECT ts, tableoid::regclass::text FROM telemetry_telemetry WHERE device_id = %s ORDER BY ts",
               [device_id])


def test_partman_keeps_daily_partitions_premade_ahead_and_a_default_partition():
    assert partitions.partman_manages_readings()
    names = partitions.partition_names()
    today = timezone.now()
    assert partition_of(today) in names
    assert [partition_of(today + timedelta(days=n)) in names for n in range(1, 5)] == [True] * 4
    assert names[-1] == partitions.DEFAULT_PARTITION
    interval, retention_setting, keep_table = sql(
        "SELECT partition_interval, retention, retention_keep_table FROM partman.part_config"
        " WHERE parent_table = 'public.telemetry_telemetry'")[0]
    assert (interval, keep_table) == ("1 day", False)


def test_a_reading_lands_in_the_partition_of_its_ts_and_a_backfill_from_years_ago_in_the_default():
    now = timezone.now()
    backfill = datetime(2001, 6, 1, tzinfo=UTC)
    assert store(("d1", now), ("d1", backfill)) == 2
    assert stored_in("d1") == [(backfill, partitions.DEFAULT_PARTITION), (now, partition_of(now))]


def test_a_redelivery_is_ignored_in_every_partition():
    now = timezone.now()
    yesterday = now - timedelta(days=1)
    create_partition_for(yesterday)
    batch = [("d1", now), ("d1", yesterday), ("d1", datetime(2001, 6, 1, tzinfo=UTC))]
    assert store(*batch) == 3

    # The broker redelivers the batch, plus one new reading: ON CONFLICT DO NOTHING absorbs the repeats.
    assert store(*batch, ("d1", now + timedelta(seconds=1))) == 1
    assert Telemetry.objects.filter(device_id="d1").count() == 4
    assert len({partition for _, partition in stored_in("d1")}) == 3
    ids = list(Telemetry.objects.values_list("id", flat=True))
    assert len(ids) == len(set(ids))


def test_retention_drops_the_expired_partitions_and_keeps_the_newer_ones():
    now = timezone.now()
    old, recent = now - timedelta(days=20), now - timedelta(days=3)
    create_partition_for(old)
    create_partition_for(recent)
    store(("d1", old), ("d1", recent), ("d1", now))

    report = partitions.partitions_maintain(retention_days=10)

    names = partitions.partition_names()
    assert partition_of(old) not in names
    assert sql("SELECT to_regclass(%s)", [partition_of(old)]) == [(None,)]  # dropped, not just detached
    assert {partition_of(recent), partition_of(now), partitions.DEFAULT_PARTITION} <= set(names)
    assert report.dropped >= 1
    assert [ts for ts, _ in stored_in("d1")] == [recent, now]


def test_no_retention_drops_no_partition():
    now = timezone.now()
    old = now - timedelta(days=400)
    create_partition_for(old)
    store(("d1", old))

    assert partitions.partitions_maintain(retention_days=0).dropped == 0
    assert partition_of(old) in partitions.partition_names()
    assert readings_prune(now=now, retention_days=0).deleted == 0
    assert Telemetry.objects.count() == 1


def test_row_by_row_retention_deletes_only_the_default_partitions_old_readings():
    now = timezone.now()
    expired_partition = now - timedelta(days=20)
    create_partition_for(expired_partition)
    backfill = datetime(2001, 6, 1, tzinfo=UTC)
    store(("d1", backfill), ("d1", expired_partition), ("d1", now))

    report = readings_prune(now=now, retention_days=10)

    # The partition's reading waits for its partition to be dropped whole.
    assert report.deleted == 1
    assert [ts for ts, _ in stored_in("d1")] == [expired_partition, now]


def test_partition_maintenance_runs_every_hour():
    clock = [1000.0]
    maintenance = PartitionMaintenance(clock=lambda: clock[0])
    assert maintenance.run_if_due() is not None
    clock[0] += retention.PARTITION_MAINTENANCE_SECONDS - 1
    assert maintenance.run_if_due() is None
    clock[0] += 1
    assert maintenance.run_if_due() is not None


def explain(read) -> str:
    """The plan of the last query `read()` sends, as the API sends it."""
    return plans_of(read)[-1]


def test_the_apis_queries_on_a_device_read_only_its_partitions_through_the_device_ts_index():
    now = timezone.now()
    old = now - timedelta(days=20)
    create_partition_for(old)
    Device.objects.bulk_create([Device(device_id=f"d{n}", last_seen=now) for n in range(50)])
    # 50 devices, a reading every 10 s over the last 5.5 hours, and a day of them 20 days ago.
    sql("INSERT INTO telemetry_telemetry (device_id, ts, temperature, received_at)"
        " SELECT 'd' || (i %% 50), %s - (i / 50) * interval '10 seconds', 20, %s FROM generate_series(0, 99999) i",
        [now, now])
    sql("INSERT INTO telemetry_telemetry (device_id, ts, temperature, received_at)"
        " SELECT 'd1', %s + i * interval '10 seconds', 20, %s FROM generate_series(0, 8000) i", [old, now])
    sql("ANALYZE telemetry_telemetry")

    plans = {
        "list": explain(lambda: list(selectors.telemetry_list(device_id="d1", limit=100,
                                                              since=now - timedelta(hours=1)))),
        "stats": explain(lambda: selectors.telemetry_window_stats(device_id="d1", window=timedelta(hours=1))),
        "latest": explain(lambda: list(selectors.telemetry_list(device_id="d1", limit=100))),
    }
    for name, plan in plans.items():
        assert f"{partition_of(now)}_device_id_ts_key" in plan, f"{name}:\n{plan}"
        # Only the premade future partitions, empty, may be read without their index.
        assert f"Seq Scan on {partition_of(now)} " not in plan, f"{name}:\n{plan}"
    for name in ("list", "stats"):
        assert partition_of(old) not in plans[name], f"{name}: the partition of 20 days ago is pruned:\n{plans[name]}"
