"""A fleet's schedule staggers devices, keeps each device's timestamps one interval apart, and honours silence."""
from fleet_schedule import FleetSchedule, Silence


def test_devices_take_turns_spread_evenly_over_the_interval():
    schedule = FleetSchedule(4, 1.0)
    assert [schedule.device(slot) for slot in range(8)] == [0, 1, 2, 3, 0, 1, 2, 3]
    assert [schedule.offset(slot) for slot in range(5)] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert schedule.slots_before(0.0) == 1 and schedule.slots_before(0.6) == 3


def test_each_device_timestamps_are_one_interval_apart_and_never_repeat():
    for devices, interval in ((1, 0.05), (3, 1.0), (1000, 1.0), (7, 0.001)):
        schedule = FleetSchedule(devices, interval)
        for device in (0, devices - 1):
            stamps = [schedule.ts_offset_ms(message * devices + device) for message in range(2000)]
            assert len(set(stamps)) == len(stamps)
            gaps = {b - a for a, b in zip(stamps, stamps[1:])}
            assert gaps <= {int(interval * 1000), int(interval * 1000) + 1}, (devices, interval, gaps)


def test_slots_inside_the_silence_are_skipped_and_publishing_resumes_after_it():
    schedule = FleetSchedule(2, 1.0, Silence(after=3.0, length=2.0))
    assert schedule.audible(5) == 5  # 2.5 s: before the silence
    assert schedule.audible(6) == 10  # 3.0 s: the first slot at or after 5.0 s
    assert schedule.audible(9) == 10
    assert schedule.audible(10) == 10
