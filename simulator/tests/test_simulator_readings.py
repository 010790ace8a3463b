"""The reading generator is pure: believable ranges, walks, excursions that end, repeatable seeds."""
import itertools

import pytest

from readings import Dropper, ReadingGenerator, SimulatedDevice, device_seed, fleet_device_ids

STEPS = 100_000


def readings(seed="1/device-001/readings", steps=STEPS, **options):
    generator = ReadingGenerator(seed, **options)
    return [generator.next() for _ in range(steps)]


@pytest.fixture(scope="module")
def long_run():
    return readings()


def runs_above(values, threshold=30.0):
    """Lengths of the maximal runs of consecutive values above `threshold`."""
    return [len(list(group)) for above, group in itertools.groupby(values, key=lambda v: v > threshold) if above]


def test_readings_stay_in_their_ranges_over_100000_steps(long_run):
    assert all(20.0 <= r.temperature <= 35.0 for r in long_run)
    assert all(30.0 <= r.humidity <= 70.0 for r in long_run)
    assert all(0.0 <= r.battery <= 100.0 for r in long_run)


def test_temperature_and_humidity_walk_rather_than_jump(long_run):
    for metric, biggest_step in (("temperature", 1.5), ("humidity", 2.5)):
        values = [getattr(r, metric) for r in long_run]
        steps = [abs(b - a) for a, b in zip(values, values[1:])]
        assert max(steps) <= biggest_step, metric
        assert sum(steps) / len(steps) < 0.5, metric
    # ... and they still explore their range instead of sitting still.
    temperatures = [r.temperature for r in long_run]
    humidities = [r.humidity for r in long_run]
    assert max(temperatures) - min(temperatures) > 10
    assert max(humidities) - min(humidities) > 25


def test_excursions_above_30_happen_rarely_last_several_readings_and_end(long_run):
    temperatures = [r.temperature for r in long_run]
    runs = runs_above(temperatures)
    assert 100 < len(runs) < 1000  # roughly one every 300 readings
    assert min(runs) >= 3  # an episode lasts several readings ...
    assert max(runs) <= 40  # ... and always ends
    assert sum(runs) / len(temperatures) < 0.1  # most of the time the device is below the threshold


def test_heat_keeps_every_reading_above_the_threshold():
    assert all(30.0 < r.temperature <= 35.0 for r in readings(steps=20_000, heat=True))


def test_battery_drains_slowly_and_never_recharges(long_run):
    batteries = [r.battery for r in long_run]
    assert all(b >= a for a, b in zip(batteries[1:], batteries))
    assert batteries[0] - batteries[999] < 3.0  # about 1 % per 1,000 readings


def test_a_seed_replays_the_same_readings_and_drops_exactly():
    first, second = SimulatedDevice("device-001", seed=42), SimulatedDevice("device-001", seed=42)
    assert [first.next_message(i) for i in range(2000)] == [second.next_message(i) for i in range(2000)]


def test_other_seeds_and_other_devices_get_other_readings():
    base = readings(device_seed(42, "device-001", "readings"), steps=200)
    assert readings(device_seed(43, "device-001", "readings"), steps=200) != base
    assert readings(device_seed(42, "device-002", "readings"), steps=200) != base


def test_the_drop_rate_does_not_change_the_readings():
    lossless, lossy = SimulatedDevice("d", seed=7, drop_rate=0), SimulatedDevice("d", seed=7, drop_rate=3)
    assert [lossless.next_message(i)[0] for i in range(500)] == [lossy.next_message(i)[0] for i in range(500)]


@pytest.mark.parametrize("one_in", [2, 5, 30, 100])
def test_drop_rate_n_drops_one_message_in_n(one_in):
    dropper = Dropper(one_in, seed=f"{one_in}/drops")
    dropped = sum(dropper.drops() for _ in range(STEPS))
    expected = STEPS / one_in
    tolerance = 5 * (STEPS * (1 / one_in) * (1 - 1 / one_in)) ** 0.5  # five standard deviations
    assert abs(dropped - expected) < tolerance


def test_drop_rate_zero_never_drops():
    dropper = Dropper(0, seed=1)
    assert not any(dropper.drops() for _ in range(10_000))


def test_payload_has_the_contract_fields():
    payload, _ = SimulatedDevice("device-007", seed=1).next_message(1728481425000)
    assert list(payload) == ["deviceId", "ts", "temperature", "humidity", "battery"]
    assert payload["deviceId"] == "device-007" and payload["ts"] == 1728481425000


def test_fleet_ids_are_the_prefix_and_at_least_three_digits():
    assert fleet_device_ids("device", 3) == ["device-001", "device-002", "device-003"]
    ids = fleet_device_ids("lab", 1000)
    assert ids[0] == "lab-001" and ids[998] == "lab-999" and ids[-1] == "lab-1000"
    assert len(set(ids)) == 1000
