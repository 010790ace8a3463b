"""The OFFLINE step's flip: one UPDATE ... RETURNING, its devices found by the (status, last_seen) index."""
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts import services
from alerts.lifecycle import alerts_raise
from alerts.models import Alert
from alerts.status_flip import devices_flip_status
from devices.models import Device

pytestmark = pytest.mark.django_db


def _plan(statement: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {statement}")
            return "\n".join(row[-1] for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN {statement}")
        return "\n".join(line for (line,) in cursor.fetchall())


def test_the_offline_flip_finds_its_devices_by_the_status_last_seen_index_and_updates_them_by_key():
    now = timezone.now()
    Device.objects.bulk_create(Device(device_id=f"d{i:05d}", last_seen=now) for i in range(5000))
    Device.objects.filter(device_id__lt="d00100").update(last_seen=now - timedelta(hours=1))
    if connection.vendor == "postgresql":  # as autovacuum would; the SQLite file has no statistics, as deployed
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    with CaptureQueriesContext(connection) as queries:
        step = services.devices_mark_offline(now=now, offline_after=60)
    assert step.alerts == 100
    [flip] = [q["sql"] for q in queries if q["sql"].startswith(f'UPDATE "{Device._meta.db_table}"')]
    assert "RETURNING" in flip
    plan = _plan(flip)
    assert "device_status_last_seen" in plan, plan
    if connection.vendor == "sqlite":
        # Walking the status index for the outer UPDATE would visit every ONLINE device.
        assert "device_status_last_seen (status=?)\n" not in plan + "\n", plan
    else:
        # The picked rows come from the index; at 5,000 rows a hash join over the table may serve the rest.
        assert "Index Cond: (((status)::text = 'ONLINE'::text) AND (last_seen <" in plan, plan


def test_a_flip_changes_only_devices_still_in_the_old_status_and_returns_them_with_last_seen():
    now = timezone.now()
    Device.objects.create(device_id="a", last_seen=now - timedelta(minutes=5))
    Device.objects.create(device_id="b", last_seen=now - timedelta(minutes=4), status=Device.Status.OFFLINE)
    Device.objects.create(device_id="c", last_seen=now - timedelta(minutes=3))
    with transaction.atomic():
        flipped = devices_flip_status(Device.objects.order_by("last_seen"), old=Device.Status.ONLINE,
                                      new=Device.Status.OFFLINE, limit=1)
    assert flipped == [("a", Device.objects.get(pk="a").last_seen)]
    assert flipped[0][1].utcoffset() == timedelta(0)
    assert dict(Device.objects.values_list("pk", "status")) == {"a": "OFFLINE", "b": "OFFLINE", "c": "ONLINE"}
    with transaction.atomic():
        again = devices_flip_status(Device.objects.order_by("last_seen"), old=Device.Status.ONLINE,
                                    new=Device.Status.OFFLINE, limit=5)
    assert [pk for pk, _ in again] == ["c"]


def test_raised_alerts_are_saved_as_alert_new_makes_them_with_their_ids():
    now = timezone.now()
    for device_id in ("a", "b"):
        Device.objects.create(device_id=device_id, last_seen=now)
    raised = alerts_raise(Alert.Type.ONLINE, ts=now, cleared=True,
                          payloads=[("a", {"offline_since": "x"}), ("b", {"offline_since": "y"})])
    stored = {alert.pk: alert for alert in Alert.objects.all()}
    assert len(stored) == 2
    for alert in raised:
        saved = stored[alert.pk]
        fields = ("device_id", "alert_type", "ts", "payload", "severity", "status", "cleared_at", "acknowledged_at")
        assert [getattr(alert, name) for name in fields] == [getattr(saved, name) for name in fields]
    assert [(a.device_id, a.payload, a.status, a.severity) for a in raised] == [
        ("a", {"offline_since": "x"}, "CLEARED", "info"), ("b", {"offline_since": "y"}, "CLEARED", "info")]
