"""Alerts end, carry a severity, and follow tunable rules: the steps against the database."""
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from alerts import high_temp, services
from alerts.models import Alert, AlertRule, DeviceAlertState
from devices.models import Device
from devtools.factories import make_battery_readings, make_device, make_temperature_readings
from devtools.query_plans import plans_of
from telemetry.models import Telemetry

pytestmark = pytest.mark.django_db
THRESHOLD = 30.0


def alerts_of(device_id, alert_type=None):
    alerts = Alert.objects.filter(device_id=device_id).order_by("id")
    return list(alerts.filter(alert_type=alert_type) if alert_type else alerts)


def evaluate(**kwargs):
    return services.alerts_evaluate(threshold=THRESHOLD, offline_after=2.0, **kwargs)


class TestHighTempLifecycle:
    def test_raised_active_critical_then_cleared_with_cleared_at_when_the_episode_ends(self):
        make_device("d1")
        make_temperature_readings("d1", [25, 31])
        evaluate()
        [alert] = alerts_of("d1", Alert.Type.HIGH_TEMP)
        assert (alert.status, alert.severity, alert.cleared_at) == ("ACTIVE", "critical", None)
        make_temperature_readings("d1", [29])
        before = timezone.now()
        evaluate()
        alert.refresh_from_db()
        assert alert.status == "CLEARED" and before <= alert.cleared_at <= timezone.now()

    def test_an_episode_that_opens_and_ends_in_one_pass_is_written_cleared(self):
        make_device("d1")
        make_temperature_readings("d1", [31, 29, 32])
        evaluate()
        assert [a.status for a in alerts_of("d1", Alert.Type.HIGH_TEMP)] == ["CLEARED", "ACTIVE"]

    def test_a_device_rule_with_hysteresis_takes_effect_at_the_next_pass_and_is_in_the_payload(self):
        make_device("d1")
        AlertRule.objects.create(device_id="d1", high_temp_threshold=40.0, high_temp_hysteresis=3.0)
        make_temperature_readings("d1", [35, 41, 38, 39.5])
        evaluate()
        [alert] = alerts_of("d1", Alert.Type.HIGH_TEMP)
        assert alert.status == "ACTIVE"  # 38 is above 40 - 3
        assert alert.payload | {"ts": None} == {"temperature": 41.0, "threshold": 40.0, "hysteresis": 3.0,
                                                "source": "device", "ts": None}
        make_temperature_readings("d1", [37])
        evaluate()
        alert.refresh_from_db()
        assert alert.status == "CLEARED"

    def test_a_device_type_rule_applies_to_its_devices(self):
        Device.objects.create(device_id="f1", device_type="freezer", last_seen=timezone.now())
        make_device("d1")
        AlertRule.objects.create(device_type="freezer", high_temp_threshold=-10.0)
        make_temperature_readings("f1", [-5])
        make_temperature_readings("d1", [-5])
        evaluate()
        [alert] = alerts_of("f1")
        assert alert.payload["source"] == "device_type" and alert.payload["threshold"] == -10.0
        assert alerts_of("d1") == []


class TestOfflineLifecycle:
    def test_offline_is_cleared_when_the_device_is_heard_again_and_online_is_born_cleared_info(self):
        make_device("d1", seconds_ago=5)
        evaluate()
        [offline] = alerts_of("d1")
        assert (offline.alert_type, offline.status, offline.severity) == ("OFFLINE", "ACTIVE", "critical")
        Device.objects.filter(pk="d1").update(last_seen=timezone.now())
        evaluate()
        offline.refresh_from_db()
        online = alerts_of("d1", Alert.Type.ONLINE)[0]
        assert offline.status == "CLEARED" and offline.cleared_at == online.ts
        assert (online.status, online.severity, online.cleared_at) == ("CLEARED", "info", online.ts)

    def test_a_device_set_online_by_hand_gets_a_new_offline_that_supersedes_the_old(self):
        make_device("d1", seconds_ago=5)
        evaluate()
        Device.objects.filter(pk="d1").update(status=Device.Status.ONLINE)
        evaluate()
        assert [a.status for a in alerts_of("d1", Alert.Type.OFFLINE)] == ["CLEARED", "ACTIVE"]

    def test_per_device_and_per_type_limits_override_the_default(self):
        Device.objects.create(device_id="slow", device_type="logger", last_seen=timezone.now() - timedelta(seconds=5))
        Device.objects.create(device_id="own", device_type="logger", last_seen=timezone.now() - timedelta(seconds=5))
        make_device("plain", seconds_ago=5)
        AlertRule.objects.create(device_type="logger", offline_after_seconds=60)
        AlertRule.objects.create(device_id="own", offline_after_seconds=3)
        evaluate()
        assert Device.objects.get(pk="slow").status == "ONLINE"
        assert [a.payload["source"] for a in alerts_of("own")] == ["device"]
        assert [a.payload["offline_after_seconds"] for a in alerts_of("plain")] == [2.0]
        Device.objects.filter(pk="slow").update(last_seen=timezone.now() - timedelta(seconds=61))
        evaluate()
        assert [a.payload["source"] for a in alerts_of("slow")] == ["device_type"]

    def test_every_offline_query_with_rules_uses_the_status_last_seen_index(self):
        AlertRule.objects.create(device_type="logger", offline_after_seconds=60)
        AlertRule.objects.create(device=make_device("own"), offline_after_seconds=3)
        from alerts.thresholds import rule_book_load

        groups = services.offline_groups(rule_book_load())
        assert len(groups) == 3
        # One device due in each group, so that each group's step also reads its devices for update.
        Device.objects.filter(pk="own").update(last_seen=timezone.now() - timedelta(hours=1))
        make_device("slow", device_type="logger", seconds_ago=3600)
        make_device("plain", seconds_ago=3600)

        def offline_steps():  # as alerts_evaluate runs them
            for where, limit, source in groups:
                services.devices_mark_offline(now=timezone.now(), offline_after=limit, where=where, source=source)

        plans = plans_of(offline_steps, containing='"last_seen" <')
        assert len(plans) == 2 * len(groups), plans  # per group: whether any is due, and which
        for plan in plans:
            if connection.vendor == "sqlite":
                assert "device_status_last_seen" in plan or "sqlite_autoindex_devices_device" in plan, plan
            else:
                assert "Seq Scan" not in plan or "device_status_last_seen" in plan, plan


class TestLowBattery:
    def test_one_warning_per_episode_cleared_when_the_battery_recovers(self):
        make_device("d1")
        make_battery_readings("d1", [40, 14, 10])
        evaluate()
        [alert] = alerts_of("d1")
        assert (alert.alert_type, alert.status, alert.severity) == ("LOW_BATTERY", "ACTIVE", "warning")
        assert alert.payload | {"ts": None} == {"battery": 14.0, "threshold": 15.0, "hysteresis": 5.0,
                                                "source": "default", "ts": None}
        make_battery_readings("d1", [18])  # below 15 + 5: still low
        evaluate()
        alert.refresh_from_db()
        assert alert.status == "ACTIVE"
        make_battery_readings("d1", [20])
        evaluate()
        alert.refresh_from_db()
        assert alert.status == "CLEARED" and alert.cleared_at is not None
        assert not DeviceAlertState.objects.get(pk="d1").low_battery


class TestAnomaly:
    def test_a_spike_after_the_warm_up_raises_one_warning_cleared_after_n_normal_readings(self, settings):
        settings.ANOMALY_WARMUP, settings.ANOMALY_CLEAR_AFTER = 10, 3
        make_device("d1")
        make_temperature_readings("d1", [22.0 + (i % 3) * 0.5 for i in range(30)])
        evaluate()
        make_temperature_readings("d1", [29.5])  # below the HIGH_TEMP threshold, far from the mean
        evaluate()
        [alert] = alerts_of("d1")
        assert (alert.alert_type, alert.status, alert.severity) == ("ANOMALY", "ACTIVE", "warning")
        assert alert.payload["metric"] == "temperature" and alert.payload["z"] > 4
        assert set(alert.payload) == {"metric", "value", "z", "mean", "std", "z_limit", "source", "ts"}
        make_temperature_readings("d1", [22.5, 22.0])
        evaluate()
        alert.refresh_from_db()
        assert alert.status == "ACTIVE"
        make_temperature_readings("d1", [22.5])
        evaluate()
        alert.refresh_from_db()
        assert alert.status == "CLEARED"

    def test_the_statistics_are_updated_from_new_readings_only(self, settings):
        make_device("d1")
        make_temperature_readings("d1", [20.0, 22.0])
        evaluate()
        state = DeviceAlertState.objects.get(pk="d1")
        assert state.anomaly_temperature_count == 2
        evaluate()  # nothing new: the table is not read again
        assert DeviceAlertState.objects.get(pk="d1").anomaly_temperature_count == 2
        make_temperature_readings("d1", [21.0])
        evaluate()
        assert DeviceAlertState.objects.get(pk="d1").anomaly_temperature_count == 3

    def test_a_device_rule_raises_k(self, settings):
        settings.ANOMALY_WARMUP = 10
        make_device("d1")
        AlertRule.objects.create(device_id="d1", anomaly_z=100)
        make_temperature_readings("d1", [22.0 + (i % 3) * 0.5 for i in range(30)] + [29.5])
        evaluate()
        assert alerts_of("d1") == []


class TestOneActive:
    def test_the_database_refuses_a_second_active_alert_of_one_type_for_one_device(self):
        device = make_device("d1")
        now = timezone.now()
        Alert.objects.create(device=device, alert_type="HIGH_TEMP", ts=now, severity="critical")
        Alert.objects.create(device=device, alert_type="HIGH_TEMP", ts=now, severity="critical", status="CLEARED")
        Alert.objects.create(device=device, alert_type="OFFLINE", ts=now, severity="critical")
        with pytest.raises(IntegrityError), transaction.atomic():
            Alert.objects.create(device=device, alert_type="HIGH_TEMP", ts=now, severity="critical")

    def test_a_stale_active_alert_is_superseded_not_duplicated(self):
        device = make_device("d1")
        Alert.objects.create(device=device, alert_type="HIGH_TEMP", ts=timezone.now(), severity="critical")
        make_temperature_readings("d1", [31])  # the hot flag says not hot: a new episode
        evaluate()
        assert [a.status for a in alerts_of("d1")] == ["CLEARED", "ACTIVE"]

    def test_the_pass_reports_what_it_raised_and_cleared_inside_its_transaction(self, monkeypatch):
        seen = []

        def hook(*, raised, cleared):
            seen.append((connection.in_atomic_block, [a.alert_type for a in raised], [a.pk for a in cleared]))

        monkeypatch.setattr(services, "_alerts_changed", hook)
        make_device("d1")
        make_temperature_readings("d1", [31])
        evaluate()
        high = alerts_of("d1")[0]
        make_temperature_readings("d1", [29])
        evaluate()
        assert seen == [(True, ["HIGH_TEMP"], []), (True, [], [high.pk])]


def test_readings_of_a_step_are_read_once_with_their_state(django_assert_max_num_queries):
    Device.objects.bulk_create(Device(device_id=f"q{i:03d}", last_seen=timezone.now()) for i in range(300))
    now = timezone.now()
    Telemetry.objects.bulk_create(Telemetry(device_id=f"q{i:03d}", ts=now, temperature=20.0, battery=50.0,
                                            received_at=now) for i in range(300))
    high_temp.high_temp_evaluate(threshold=THRESHOLD)
    Telemetry.objects.bulk_create(Telemetry(device_id=f"q{i:03d}", ts=now + timedelta(seconds=1), temperature=21.0,
                                            received_at=now) for i in range(300))
    # watermark, readings with their state, the rules, the write (CAS, statistics, savepoints)
    with django_assert_max_num_queries(12):
        high_temp.high_temp_evaluate(threshold=THRESHOLD)
