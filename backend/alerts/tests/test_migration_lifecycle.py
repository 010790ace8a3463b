"""Alerts raised before they could end are migrated: what still holds stays ACTIVE, the rest CLEARED."""
from datetime import timedelta

import pytest
from django.utils import timezone

from devtools.migrations import migrate_to, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = [("alerts", "0002_worker_state")]
AFTER = [("alerts", "0005_one_active_alert")]


def test_existing_alerts_get_a_status_a_severity_and_cleared_at():
    apps = migrate_to(BEFORE)
    try:
        Device = apps.get_model("devices", "Device")
        Alert = apps.get_model("alerts", "Alert")
        State = apps.get_model("alerts", "DeviceAlertState")
        now = timezone.now()
        hot = Device.objects.create(device_id="hot", last_seen=now)
        cool = Device.objects.create(device_id="cool", last_seen=now)
        away = Device.objects.create(device_id="away", last_seen=now, status="OFFLINE")
        back = Device.objects.create(device_id="back", last_seen=now)
        State.objects.create(device=hot, hot=True)
        State.objects.create(device=cool, hot=False)

        def alert(device, alert_type, minutes_ago):
            return Alert.objects.create(device=device, alert_type=alert_type, ts=now - timedelta(minutes=minutes_ago)).pk

        ids = {
            "hot_old": alert(hot, "HIGH_TEMP", 9), "hot_new": alert(hot, "HIGH_TEMP", 2),
            "cool": alert(cool, "HIGH_TEMP", 5),
            "away_old": alert(away, "OFFLINE", 8), "away_online": alert(away, "ONLINE", 7),
            "away_new": alert(away, "OFFLINE", 3),
            "back_offline": alert(back, "OFFLINE", 6), "back_online": alert(back, "ONLINE", 4),
        }
        apps = migrate_to(AFTER)
        Alert = apps.get_model("alerts", "Alert")
        rows = {name: Alert.objects.get(pk=pk) for name, pk in ids.items()}
        active = {name for name, row in rows.items() if row.status == "ACTIVE"}
        assert active == {"hot_new", "away_new"}
        assert all(rows[name].cleared_at is None for name in active)
        assert all(row.cleared_at is not None for name, row in rows.items() if name not in active)
        assert rows["back_online"].cleared_at == rows["back_online"].ts
        assert {name: row.severity for name, row in rows.items()} == {
            "hot_old": "critical", "hot_new": "critical", "cool": "critical", "away_old": "critical",
            "away_online": "info", "away_new": "critical", "back_offline": "critical", "back_online": "info",
        }
    finally:
        migrate_to_latest()


def test_the_recorded_offline_last_seen_moves_to_its_device_and_back():
    before = [("alerts", "0007_alert_indexes_for_raising"), ("devices", "0005_latest_reading")]
    after = [("alerts", "0008_offline_last_seen_on_the_device")]
    apps = migrate_to(before)
    try:
        Device = apps.get_model("devices", "Device")
        State = apps.get_model("alerts", "DeviceAlertState")
        now = timezone.now()
        away = Device.objects.create(device_id="away", last_seen=now, status="OFFLINE")
        here = Device.objects.create(device_id="here", last_seen=now)
        State.objects.create(device=away, offline_since=now, offline_last_seen=now - timedelta(minutes=5))
        State.objects.create(device=here)
        apps = migrate_to(after)
        recorded = dict(apps.get_model("devices", "Device").objects.values_list("pk", "offline_last_seen"))
        assert recorded == {"away": now - timedelta(minutes=5), "here": None}
        apps = migrate_to(before)
        recorded = dict(apps.get_model("alerts", "DeviceAlertState").objects.values_list("pk", "offline_last_seen"))
        assert recorded == {"away": now - timedelta(minutes=5), "here": None}
    finally:
        migrate_to_latest()
