"""The alert rules, without a database."""
from datetime import UTC, datetime, timedelta

from alerts import rules
from alerts.rules import OfflineDeviceDecision, TemperatureReading

T0 = datetime(2024, 10, 9, 13, 43, 45, tzinfo=UTC)
THRESHOLD = 30.0


def readings(device_id, temperatures, *, start_id=1, step=timedelta(seconds=1)):
    return [
        TemperatureReading(id=start_id + i, device_id=device_id, ts=T0 + i * step, temperature=t)
        for i, t in enumerate(temperatures)
    ]


def alert_temperatures(outcome):
    return [reading.temperature for reading in outcome.alerts]


def test_a_hot_spell_raises_one_alert_per_episode_not_per_reading():
    outcome = rules.high_temp_episodes(readings("d1", [25, 31, 32, 33, 29, 31]), hot=set(), threshold=THRESHOLD)
    assert alert_temperatures(outcome) == [31, 31]
    assert outcome.hot_after == {"d1": True}


def test_exactly_the_threshold_is_not_high_and_ends_an_episode():
    assert not rules.is_high(30.0, 30.0)
    assert rules.is_high(30.000001, 30.0)
    outcome = rules.high_temp_episodes(readings("d1", [30.0, 30.5, 30.0, 30.5]), hot=set(), threshold=THRESHOLD)
    assert alert_temperatures(outcome) == [30.5, 30.5]


def test_readings_of_one_batch_are_evaluated_in_time_order_whatever_their_arrival():
    in_time_order = readings("d1", [25, 31, 29, 31])
    arrived = [in_time_order[3], in_time_order[1], in_time_order[0], in_time_order[2]]
    outcome = rules.high_temp_episodes(arrived, hot=set(), threshold=THRESHOLD)
    assert [r.ts for r in outcome.alerts] == [in_time_order[1].ts, in_time_order[3].ts]
    assert outcome.hot_after == {"d1": True}


def test_an_episode_open_before_the_batch_raises_nothing_until_it_cools():
    outcome = rules.high_temp_episodes(readings("d1", [33, 34]), hot={"d1"}, threshold=THRESHOLD)
    assert outcome.alerts == []
    outcome = rules.high_temp_episodes(readings("d1", [29, 34]), hot={"d1"}, threshold=THRESHOLD)
    assert alert_temperatures(outcome) == [34]


def test_a_reading_without_temperature_leaves_the_episode_as_it_is():
    outcome = rules.high_temp_episodes(readings("d1", [31, None, 32]), hot=set(), threshold=THRESHOLD)
    assert alert_temperatures(outcome) == [31]
    outcome = rules.high_temp_episodes(readings("d1", [None]), hot={"d1"}, threshold=THRESHOLD)
    assert outcome.hot_after == {}


def test_devices_are_independent_even_when_their_readings_interleave():
    mixed = readings("a", [31, 29, 31], start_id=1) + readings("b", [31, 32, 33], start_id=10)
    mixed.sort(key=lambda r: r.ts)
    outcome = rules.high_temp_episodes(mixed, hot={"b"}, threshold=THRESHOLD)
    assert [(r.device_id, r.temperature) for r in outcome.alerts] == [("a", 31), ("a", 31)]
    assert outcome.hot_after == {"a": True, "b": True}


def test_a_device_cooling_down_reports_it_is_no_longer_hot():
    outcome = rules.high_temp_episodes(readings("d1", [29]), hot={"d1"}, threshold=THRESHOLD)
    assert outcome.hot_after == {"d1": False}


def test_the_offline_deadline_is_the_limit_before_now():
    now = T0 + timedelta(seconds=10)
    assert rules.offline_deadline(now=now, offline_after=2.5) == now - timedelta(seconds=2.5)


def test_an_offline_device_comes_back_only_with_a_reading_newer_than_when_it_left():
    left = T0 + timedelta(seconds=12)
    decide = rules.offline_device_decision
    assert decide(last_seen=T0, offline_since=left, offline_last_seen=T0) is OfflineDeviceDecision.WAIT
    assert decide(last_seen=T0 + timedelta(milliseconds=1), offline_since=left,
                  offline_last_seen=T0) is OfflineDeviceDecision.ONLINE
    assert decide(last_seen=T0, offline_since=None, offline_last_seen=None) is OfflineDeviceDecision.ADOPT
    assert decide(last_seen=T0, offline_since=left, offline_last_seen=None) is OfflineDeviceDecision.ONLINE


def test_payload_timestamps_are_iso_utc_with_z():
    reading = readings("d1", [31.5])[0]
    assert rules.high_temp_payload(reading, threshold=30.0) == {
        "temperature": 31.5, "threshold": 30.0, "hysteresis": 0.0, "source": "default",
        "ts": "2024-10-09T13:43:45.000Z",
    }
    assert rules.offline_payload(last_seen=T0) == {"last_seen": "2024-10-09T13:43:45.000Z"}
    assert rules.online_payload(offline_since=T0) == {"offline_since": "2024-10-09T13:43:45.000Z"}
