"""The evaluation steps against the database: each transition once, with its alert."""
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts import high_temp, services
from alerts.models import Alert, DeviceAlertState, ReadingWatermark
from alerts.watermark import Gap
from common.timefmt import iso_utc
from devices.models import Device
from devtools.factories import make_device, make_temperature_readings
from devtools.query_plans import plans_of

pytestmark = pytest.mark.django_db
THRESHOLD = 30.0


def alerts_of(device_id, alert_type=None):
    alerts = Alert.objects.filter(device_id=device_id)
    if alert_type:
        alerts = alerts.filter(alert_type=alert_type)
    return list(alerts.order_by("id"))


def status_of(device_id):
    return Device.objects.get(pk=device_id).status


def go_offline(device_id, offline_after=2.0):
    services.devices_mark_offline(now=timezone.now(), offline_after=offline_after)
    assert status_of(device_id) == Device.Status.OFFLINE


class TestOffline:
    def test_a_silent_device_goes_offline_with_exactly_one_alert(self):
        device = make_device("d1", seconds_ago=5)
        for _ in range(3):
            services.devices_mark_offline(now=timezone.now(), offline_after=2.0)
        assert status_of("d1") == Device.Status.OFFLINE
        [alert] = alerts_of("d1")
        assert alert.alert_type == Alert.Type.OFFLINE
        assert alert.payload == {"last_seen": iso_utc(device.last_seen), "offline_after_seconds": 2.0,
                                 "source": "default"}
        assert Device.objects.get(pk="d1").offline_last_seen == device.last_seen
        assert DeviceAlertState.objects.get(pk="d1").offline_since == alert.ts

    def test_a_device_within_its_limit_stays_online(self):
        make_device("d1", seconds_ago=1)
        services.devices_mark_offline(now=timezone.now(), offline_after=2.0)
        assert status_of("d1") == Device.Status.ONLINE
        assert alerts_of("d1") == []

    def test_silence_means_strictly_more_than_the_limit_and_a_device_never_seen_is_not_silent(self):
        now = timezone.now()
        make_device("at-the-limit", last_seen=now - timedelta(seconds=10))
        make_device("just-past-it", last_seen=now - timedelta(seconds=10, microseconds=1))
        make_device("never-seen", last_seen=None)
        services.devices_mark_offline(now=now, offline_after=10)
        assert dict(Device.objects.values_list("device_id", "status")) == {
            "at-the-limit": "ONLINE", "just-past-it": "OFFLINE", "never-seen": "ONLINE"}

    def test_the_queries_for_silent_devices_use_the_status_last_seen_index(self):
        from django.db import connection

        make_device("d1", seconds_ago=5)  # one due, so the step reads it for update too
        plans = plans_of(lambda: services.devices_mark_offline(now=timezone.now(), offline_after=2.0),
                         containing='"last_seen" <')
        assert len(plans) == 2, plans  # whether any is due, and which
        for plan in plans:
            if connection.vendor == "sqlite":
                assert "device_status_last_seen" in plan, plan
            else:
                assert "Seq Scan" not in plan or "device_status_last_seen" in plan, plan

    def test_many_silent_devices_go_offline_in_one_pass(self):
        Device.objects.bulk_create(
            Device(device_id=f"d{i:04d}", last_seen=timezone.now() - timedelta(seconds=30)) for i in range(2500)
        )
        report = services.alerts_evaluate(threshold=THRESHOLD, offline_after=2.0)
        assert report.offline == 2500
        assert Alert.objects.filter(alert_type=Alert.Type.OFFLINE).count() == 2500
        assert not Device.objects.filter(status=Device.Status.ONLINE).exists()


class TestOnline:
    def test_a_device_that_sends_again_comes_back_with_exactly_one_alert(self):
        make_device("d1", seconds_ago=5)
        go_offline("d1")
        offline_alert = alerts_of("d1")[0]
        Device.objects.filter(pk="d1").update(last_seen=timezone.now())
        for _ in range(3):
            services.devices_mark_online(now=timezone.now())
        assert status_of("d1") == Device.Status.ONLINE
        online = alerts_of("d1", Alert.Type.ONLINE)
        assert len(online) == 1
        assert online[0].payload == {"offline_since": iso_utc(offline_alert.ts)}
        assert DeviceAlertState.objects.get(pk="d1").offline_since is None

    def test_an_offline_device_that_stays_silent_stays_offline(self):
        make_device("d1", seconds_ago=5)
        go_offline("d1")
        services.devices_mark_online(now=timezone.now())
        assert status_of("d1") == Device.Status.OFFLINE
        assert alerts_of("d1", Alert.Type.ONLINE) == []

    def test_a_reading_received_before_the_transition_but_committed_after_it_brings_the_device_back(self):
        device = make_device("d1", seconds_ago=5)
        go_offline("d1")
        # The ingest stamped it before the worker's pass, but committed after it.
        Device.objects.filter(pk="d1").update(last_seen=device.last_seen + timedelta(seconds=4))
        services.devices_mark_online(now=timezone.now())
        assert status_of("d1") == Device.Status.ONLINE

    def test_an_offline_device_without_a_recorded_transition_is_adopted_then_comes_back(self):
        make_device("d1", seconds_ago=1, status=Device.Status.OFFLINE)
        services.devices_mark_online(now=timezone.now())
        assert status_of("d1") == Device.Status.OFFLINE
        assert DeviceAlertState.objects.get(pk="d1").offline_since is not None
        Device.objects.filter(pk="d1").update(last_seen=timezone.now())
        services.devices_mark_online(now=timezone.now())
        assert status_of("d1") == Device.Status.ONLINE
        assert len(alerts_of("d1", Alert.Type.ONLINE)) == 1

    def test_offline_then_online_then_offline_again_raises_each_alert_once(self):
        make_device("d1", seconds_ago=5)
        go_offline("d1")
        Device.objects.filter(pk="d1").update(last_seen=timezone.now() - timedelta(seconds=3))
        services.devices_mark_online(now=timezone.now())
        go_offline("d1")
        assert [a.alert_type for a in alerts_of("d1")] == ["OFFLINE", "ONLINE", "OFFLINE"]


class TestHighTemp:
    def test_one_alert_per_episode_with_the_readings_payload(self):
        make_device("d1")
        rows = make_temperature_readings("d1", [25, 31, 32, 33, 29, 31])
        high_temp.high_temp_evaluate(threshold=THRESHOLD)
        high_temp.high_temp_evaluate(threshold=THRESHOLD)
        alerts = alerts_of("d1", Alert.Type.HIGH_TEMP)
        rule = {"threshold": 30.0, "hysteresis": 0.0, "source": "default"}
        assert [a.payload for a in alerts] == [
            {"temperature": 31.0, **rule, "ts": iso_utc(rows[1].ts)},
            {"temperature": 31.0, **rule, "ts": iso_utc(rows[5].ts)},
        ]
        assert DeviceAlertState.objects.get(pk="d1").hot

    def test_an_episode_spans_passes(self):
        make_device("d1")
        for temperatures in ([31], [32, 33], [29, 31]):
            make_temperature_readings("d1", temperatures)
            high_temp.high_temp_evaluate(threshold=THRESHOLD)
        assert len(alerts_of("d1", Alert.Type.HIGH_TEMP)) == 2

    def test_a_restart_neither_misses_nor_rereads(self):
        make_device("d1")
        make_temperature_readings("d1", [31])
        high_temp.high_temp_evaluate(threshold=THRESHOLD)
        make_temperature_readings("d1", [29, 31])
        # A new process starts from the stored watermark.
        assert ReadingWatermark.objects.get().position > 0
        high_temp.high_temp_evaluate(threshold=THRESHOLD)
        high_temp.high_temp_evaluate(threshold=THRESHOLD)
        assert len(alerts_of("d1", Alert.Type.HIGH_TEMP)) == 2

    def test_a_pass_that_lost_the_watermark_race_writes_nothing(self, monkeypatch):
        make_device("d1")
        make_temperature_readings("d1", [31, 29, 31])
        stale = high_temp.load_watermark()
        high_temp.high_temp_evaluate(threshold=THRESHOLD)
        DeviceAlertState.objects.filter(pk="d1").update(hot=False)  # what the loser would have read
        monkeypatch.setattr(high_temp, "load_watermark", lambda: stale)
        step = high_temp.high_temp_evaluate(threshold=THRESHOLD)
        assert step.alerts == 0
        assert len(alerts_of("d1", Alert.Type.HIGH_TEMP)) == 2

    def test_a_reading_that_commits_below_the_watermark_is_still_evaluated(self, monkeypatch):
        make_device("a")
        make_device("b")
        # PostgreSQL: id 2 belongs to transaction 77, still running when ids 1 and 3 are read.
        running = {77}
        monkeypatch.setattr(high_temp, "transactions_in_progress", lambda connection: frozenset(running))
        make_temperature_readings("a", [25], first_id=1)
        make_temperature_readings("a", [26], first_id=3)
        high_temp.high_temp_evaluate(threshold=THRESHOLD)
        assert ReadingWatermark.objects.get().gaps == [Gap(2, 2, frozenset({77})).to_json()]
        high_temp.high_temp_evaluate(threshold=THRESHOLD)
        assert ReadingWatermark.objects.get().gaps != []
        make_temperature_readings("b", [35], first_id=2)  # transaction 77 commits...
        running.clear()  # ...and is over
        high_temp.high_temp_evaluate(threshold=THRESHOLD)
        high_temp.high_temp_evaluate(threshold=THRESHOLD)
        assert [a.payload["temperature"] for a in alerts_of("b", Alert.Type.HIGH_TEMP)] == [35.0]
        assert ReadingWatermark.objects.get().gaps == []

    def test_every_open_gap_is_read_again_however_many_there_are(self, monkeypatch):
        from telemetry.models import Telemetry

        running = {77}
        monkeypatch.setattr(high_temp, "transactions_in_progress", lambda connection: frozenset(running))
        Device.objects.bulk_create(Device(device_id=f"g{i:03d}", last_seen=timezone.now()) for i in range(500))
        now = timezone.now()

        def reading(id_, temperature):
            return Telemetry(id=id_, device_id=f"g{id_:03d}", ts=now, temperature=temperature, received_at=now)

        Telemetry.objects.bulk_create(reading(i, 20.0) for i in range(1, 500, 2))  # odd ids: 249 holes
        high_temp.high_temp_evaluate(threshold=THRESHOLD)
        assert len(ReadingWatermark.objects.get().gaps) == 249
        Telemetry.objects.bulk_create(reading(i, 40.0) for i in range(2, 500, 2))
        running.clear()
        high_temp.high_temp_evaluate(threshold=THRESHOLD)
        assert Alert.objects.filter(alert_type=Alert.Type.HIGH_TEMP).count() == 249
        assert ReadingWatermark.objects.get().gaps == []

    def test_readings_beyond_one_read_are_taken_in_the_next(self):
        make_device("d1")
        make_temperature_readings("d1", [31] * 5 + [29, 31])
        first = high_temp.high_temp_evaluate(threshold=THRESHOLD, limit=5)
        assert first.full and first.alerts == 1
        high_temp.high_temp_evaluate(threshold=THRESHOLD, limit=5)
        assert len(alerts_of("d1", Alert.Type.HIGH_TEMP)) == 2
