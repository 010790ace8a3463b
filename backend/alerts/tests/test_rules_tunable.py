"""The rules added with tunable thresholds, without a database: hysteresis, LOW_BATTERY, ANOMALY, precedence."""
import math
import statistics
from datetime import UTC, datetime, timedelta

import pytest

from alerts import rules
from alerts.rules import AnomalySettings, AnomalyState, Limit, Reading
from alerts.thresholds import rule_book_build

T0 = datetime(2024, 10, 9, 13, 43, 45, tzinfo=UTC)


def series(device_id, field, values, *, start_id=1):
    return [Reading(id=start_id + i, device_id=device_id, ts=T0 + timedelta(seconds=i),
                    **{"temperature": None, field: v}) for i, v in enumerate(values)]


def heat(values, *, hot=(), threshold=30.0, hysteresis=0.0, per_device=None):
    return rules.high_temp_episodes(series("d1", "temperature", values), hot=set(hot), threshold=threshold,
                                    hysteresis=hysteresis, per_device=per_device)


class TestHighTempHysteresis:
    @pytest.mark.parametrize(("reading", "ends"), [(28.0, True), (27.9, True), (28.1, False), (30.0, False)])
    def test_an_episode_ends_only_at_or_below_threshold_minus_hysteresis(self, reading, ends):
        outcome = heat([reading], hot={"d1"}, hysteresis=2.0)
        assert outcome.active_after == {"d1": not ends}
        assert outcome.closes_open == ({"d1"} if ends else set())

    def test_a_reading_hovering_at_the_threshold_does_not_flap(self):
        outcome = heat([30.5, 29.9, 30.4, 29.5, 30.2, 27.9, 30.1], hysteresis=2.0)
        assert [r.temperature for r in outcome.alerts] == [30.5, 30.1]
        assert outcome.ended == {1}  # the first episode ended here, at 27.9

    def test_without_hysteresis_the_threshold_itself_ends_the_episode_as_before(self):
        outcome = heat([30.5, 30.0, 30.5])
        assert [r.temperature for r in outcome.alerts] == [30.5, 30.5]

    def test_a_device_rule_replaces_the_default_for_that_device_only(self):
        readings = series("d1", "temperature", [35.0]) + series("d2", "temperature", [35.0], start_id=9)
        outcome = rules.high_temp_episodes(readings, hot=set(), threshold=30.0,
                                           per_device={"d1": Limit(40.0, 0.0, "device")})
        assert [r.device_id for r in outcome.alerts] == ["d2"]


class TestLowBattery:
    def battery(self, values, *, low=(), level=15.0, hysteresis=5.0):
        return rules.low_battery_episodes(series("d1", "battery", values), low=set(low), level=level,
                                          hysteresis=hysteresis)

    def test_one_alert_per_episode_ended_at_level_plus_hysteresis(self):
        outcome = self.battery([50, 14, 12, 16, 19.9, 20, 14])
        assert [r.battery for r in outcome.alerts] == [14, 14]
        assert outcome.ended == {2}
        assert outcome.active_after == {"d1": True}

    def test_exactly_the_level_is_not_low(self):
        assert self.battery([15.0]).alerts == []
        assert [r.battery for r in self.battery([14.99]).alerts] == [14.99]

    def test_an_episode_open_before_ends_on_recovery(self):
        outcome = self.battery([18, 21], low={"d1"})
        assert outcome.alerts == [] and outcome.closes_open == {"d1"}

    def test_a_reading_without_a_battery_changes_nothing(self):
        assert self.battery([None, None], low={"d1"}).active_after == {}


class TestAnomaly:
    CONFIG = AnomalySettings(z_limit=4.0, warmup=10, clear_after=3, alpha=0.1, min_std=0.1)

    def run(self, values, *, states=None, config=CONFIG):
        return rules.anomaly_episodes(series("d1", "humidity", values), states=states or {}, config=config)

    def test_the_ewma_statistics_of_a_known_series(self):
        stats = rules.MetricStats()
        for value in (10.0, 12.0, 11.0):
            stats.update(value, 0.5)
        # mean: 10 -> 11 -> 11; variance: 0 -> 0.5*(0+2*1)=1 -> 0.5*(1+0*0)=0.5
        assert (stats.count, stats.mean, stats.variance) == (3, 11.0, 0.5)
        z, std = rules.z_score(13.0, stats, 0.1)
        assert std == pytest.approx(math.sqrt(0.5)) and z == pytest.approx(2 / math.sqrt(0.5))

    def test_a_spike_after_the_warm_up_raises_one_alert_with_z_mean_and_std(self):
        normal = [50.0 + (i % 3 - 1) for i in range(20)]  # 49, 50, 51, ...
        outcome = self.run(normal + [80.0, 81.0])
        [finding] = outcome.alerts
        assert finding.value == 80.0 and finding.metric == "humidity"
        assert 45 < finding.mean < 55 and finding.std < 2 and finding.z > 4
        assert finding.z == pytest.approx(abs(80.0 - finding.mean) / finding.std)
        assert outcome.states["d1"].active

    def test_no_anomaly_during_the_warm_up(self):
        assert self.run([50.0] * 5 + [90.0]).alerts == []

    def test_n_normal_readings_in_a_row_end_the_episode(self):
        normal = [50.0 + (i % 3 - 1) for i in range(20)]
        outcome = self.run(normal + [90.0] + [50.0, 50.0])
        assert outcome.states["d1"].active and outcome.ended == set()
        later = self.run([50.0], states=outcome.states)
        assert not later.states["d1"].active and later.closes_open == {"d1"}

    def test_the_state_survives_its_stored_form(self):
        outcome = self.run([50.0, 52.0, 49.0])
        state = outcome.states["d1"]
        assert AnomalyState.from_row(state.to_row()) == state

    def test_the_mean_follows_the_series(self):
        values = [20.0 + 0.01 * i for i in range(200)]
        state = self.run(values).states["d1"]
        assert state.metrics["humidity"].mean == pytest.approx(statistics.fmean(values[-20:]), abs=0.2)


class TestPrecedence:
    DEFAULTS = {"high_temp_threshold": 30.0, "high_temp_hysteresis": 0.0, "offline_after_seconds": 10.0,
                "low_battery_percent": 15.0, "low_battery_hysteresis": 5.0, "anomaly_z": 4.0}

    def book(self):
        return rule_book_build([
            {"device_id": None, "device_type": "freezer", "high_temp_threshold": -10.0, "offline_after_seconds": 60.0},
            {"device_id": "f1", "device_type": None, "high_temp_threshold": -15.0, "high_temp_hysteresis": None},
        ], self.DEFAULTS)

    def test_device_over_type_over_default(self):
        book = self.book()
        assert book.value("high_temp_threshold", "f1", "freezer") == (-15.0, "device")
        assert book.value("high_temp_threshold", "f2", "freezer") == (-10.0, "device_type")
        assert book.value("high_temp_threshold", "x", "boiler") == (30.0, "default")
        assert book.value("offline_after_seconds", "f1", "freezer") == (60.0, "device_type")

    def test_a_null_field_inherits(self):
        assert self.book().value("high_temp_hysteresis", "f1", "freezer") == (0.0, "default")

    def test_a_limit_names_its_most_specific_source(self):
        assert self.book().limit("high_temp_threshold", "high_temp_hysteresis", "f1", "freezer") == Limit(
            -15.0, 0.0, "device")
