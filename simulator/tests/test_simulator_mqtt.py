"""The simulator against a real Mosquitto: what a subscriber receives, what the user sees, how it ends."""
import json
import re
import signal
import subprocess
import sys
import time

import psutil
import pytest

from devtools.broker import LocalBroker, free_port
from devtools.processes import ManagedProcess
from devtools.waiting import wait_until
from readings import SimulatedDevice
from tests.conftest import REPO_DIR, SIMULATOR

PUBLISHED_LINE = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] Published: (\{.*\})$", re.MULTILINE)
FINAL_SUMMARY = re.compile(r"Stopped \((?P<reason>[^)]+)\) after [\d.]+ s: (?P<devices>\d+) devices?, "
                           r"meant (?P<meant>\d+), published (?P<published>\d+), dropped (?P<dropped>\d+), "
                           r"unsent (?P<unsent>\d+), reconnects (?P<reconnects>\d+)")


def final_summary(process) -> dict[str, int | str]:
    found = FINAL_SUMMARY.search(process.output())
    assert found, f"no final summary in:\n{process.output()[-3000:]}"
    return {key: value if key == "reason" else int(value) for key, value in found.groupdict().items()}


def test_count_publishes_exactly_that_many_readings_with_the_contract_fields(
    mqtt_broker, run_simulator, subscriber_for, unique_prefix
):
    subscriber = subscriber_for(mqtt_broker)
    device = f"{unique_prefix}-boiler"
    sim = run_simulator(mqtt_broker, "--device-id", device, "--count", "5", "--drop-rate", "0", "--interval", "0.05")

    assert sim.process.wait(timeout=20) == 0, sim.output()
    subscriber.settle()  # nothing more is on its way
    received = subscriber.received(device)
    assert len(received) == 5
    now_ms = time.time() * 1000
    for _, topic, payload in received:
        assert topic == f"devices/{device}/telemetry"
        assert set(payload) == {"deviceId", "ts", "temperature", "humidity", "battery"}
        assert payload["deviceId"] == device
        assert isinstance(payload["ts"], int) and now_ms - 60_000 < payload["ts"] <= now_ms
        assert 20 <= payload["temperature"] <= 35 and 30 <= payload["humidity"] <= 70
        assert 0 <= payload["battery"] <= 100
    stamps = [payload["ts"] for _, _, payload in received]
    assert [b - a for a, b in zip(stamps, stamps[1:])] == [50, 50, 50, 50]
    # One line per message, in the original tool's format, showing exactly what was sent.
    assert [json.loads(line) for line in PUBLISHED_LINE.findall(sim.output())] == [p for _, _, p in received]
    summary = final_summary(sim)
    assert (summary["reason"], summary["meant"], summary["published"]) == ("count reached", 5, 5)


def test_a_fleet_publishes_for_distinct_devices_and_prints_summaries_not_a_line_per_message(
    mqtt_broker, run_simulator, subscriber_for, unique_prefix
):
    subscriber = subscriber_for(mqtt_broker)
    sim = run_simulator(mqtt_broker, "--device-id", unique_prefix, "--devices", "3", "--count", "20",
                        "--drop-rate", "0", "--interval", "0.05", "--summary-seconds", "0.2")

    assert sim.process.wait(timeout=20) == 0, sim.output()
    wait_until(lambda: len(subscriber.received(unique_prefix)) >= 60, timeout=5)
    by_device: dict[str, int] = {}
    for _, topic, payload in subscriber.received(unique_prefix):
        assert topic == f"devices/{payload['deviceId']}/telemetry"
        by_device[payload["deviceId"]] = by_device.get(payload["deviceId"], 0) + 1
    assert by_device == {f"{unique_prefix}-001": 20, f"{unique_prefix}-002": 20, f"{unique_prefix}-003": 20}
    output = sim.output()
    assert "Published:" not in output
    assert re.search(r"3/3 connected \| published \d+ \([\d.]+ msg/s\) \| dropped 0", output)
    assert final_summary(sim)["meant"] == 60


def test_count_includes_dropped_messages_and_the_dropped_ones_are_never_sent(
    mqtt_broker, run_simulator, subscriber_for, unique_prefix
):
    subscriber = subscriber_for(mqtt_broker)
    device = f"{unique_prefix}-lossy"
    sim = run_simulator(mqtt_broker, "--device-id", device, "--count", "40", "--drop-rate", "4", "--seed", "11",
                        "--interval", "0.01")

    assert sim.process.wait(timeout=20) == 0, sim.output()
    summary = final_summary(sim)
    # The same seed decides the same drops, so the exact number is known in advance.
    twin = SimulatedDevice(device, seed=11, drop_rate=4)
    expected_drops = sum(twin.next_message(0)[1] for _ in range(40))
    assert 0 < expected_drops < 40
    assert (summary["meant"], summary["dropped"], summary["published"]) == (40, expected_drops, 40 - expected_drops)
    assert len(re.findall(r"Dropped \(simulated loss\): ", sim.output())) == expected_drops
    subscriber.settle()
    assert len(subscriber.received(device)) == 40 - expected_drops


@pytest.mark.parametrize("single_connection", [False, True], ids=["connection-per-device", "single-connection"])
def test_each_device_has_its_own_connection_unless_they_share_one(
    mqtt_broker, run_simulator, subscriber_for, unique_prefix, single_connection
):
    subscriber = subscriber_for(mqtt_broker)
    options = ["--single-connection"] if single_connection else []
    sim = run_simulator(mqtt_broker, "--device-id", unique_prefix, "--devices", "4", "--count", "3",
                        "--drop-rate", "0", "--interval", "0.05", *options)

    assert sim.process.wait(timeout=20) == 0, sim.output()
    wait_until(lambda: len(subscriber.received(unique_prefix)) >= 12, timeout=5)
    assert {p["deviceId"] for p in subscriber.payloads(unique_prefix)} == {f"{unique_prefix}-00{i}" for i in range(1, 5)}
    pid = sim.process.pid
    client_ids = wait_until(
        lambda: re.findall(rf"New client connected from \S+ as (\S+-{pid}) ", mqtt_broker.log_file.read_text()),
        timeout=5,
    )
    if single_connection:
        assert client_ids == [f"simulator-{pid}"]
    else:
        assert sorted(client_ids) == [f"{unique_prefix}-00{i}-{pid}" for i in range(1, 5)]


def test_silent_after_stops_publishing_for_a_while_then_resumes(
    mqtt_broker, run_simulator, subscriber_for, unique_prefix
):
    subscriber = subscriber_for(mqtt_broker)
    device = f"{unique_prefix}-quiet"
    sim = run_simulator(mqtt_broker, "--device-id", device, "--drop-rate", "0", "--interval", "0.05",
                        "--silent-after", "0.5", "--silent-for", "1.5", "--duration", "2.6")

    assert sim.process.wait(timeout=20) == 0, sim.output()
    subscriber.settle()
    received = subscriber.received(device)
    arrivals = [arrival for arrival, _, _ in received]
    stamps = [payload["ts"] for _, _, payload in received]
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    longest = max(range(len(gaps)), key=gaps.__getitem__)
    assert 1450 <= gaps[longest] <= 1600  # the silence, in the readings' own timestamps
    assert arrivals[longest + 1] - arrivals[longest] >= 1.0  # and on the wire
    assert all(gap == 50 for i, gap in enumerate(gaps) if i != longest)  # steady either side of it
    assert longest >= 5 and len(gaps) - longest >= 5  # publishing before and after
    assert "Going silent for 1.5 s" in sim.output() and "Silence over: publishing again" in sim.output()


def test_it_keeps_publishing_through_a_broker_restart_and_loses_nothing(
    private_broker, run_simulator, subscriber_for, unique_prefix
):
    # A persistent QoS 1 subscriber: the broker keeps its queue across the restart,
    # so whatever the simulator got acknowledged reaches it.
    subscriber = subscriber_for(private_broker, persistent=True)
    sim = run_simulator(private_broker, "--device-id", unique_prefix, "--devices", "3", "--drop-rate", "0",
                        "--interval", "0.05", "--summary-seconds", "0.5")
    wait_until(lambda: len(subscriber.received(unique_prefix)) >= 20, timeout=10)

    private_broker.restart()
    restarted_at = time.monotonic()
    sim.wait_for_output(r"Lost the connection to the MQTT broker")
    sim.wait_for_output(r"Reconnected: all 3 connections to \S+ are back after [\d.]+ s", timeout=15)
    wait_until(lambda: sum(a > restarted_at + 0.5 for a, _, _ in subscriber.received(unique_prefix)) >= 30,
               timeout=10, message="no readings arrived after the restart")
    assert sim.running

    assert sim.terminate(sig=signal.SIGINT) == 0
    summary = final_summary(sim)
    assert summary["reconnects"] == 3 and summary["unsent"] == 0
    # Readings made while the broker was down were kept and sent after the reconnect.
    wait_until(lambda: len({(p["deviceId"], p["ts"]) for p in subscriber.payloads(unique_prefix)})
               >= summary["meant"], timeout=10)
    per_device = {}
    for payload in subscriber.payloads(unique_prefix):
        per_device.setdefault(payload["deviceId"], set()).add(payload["ts"])
    for stamps in per_device.values():
        ordered = sorted(stamps)
        assert {b - a for a, b in zip(ordered, ordered[1:])} == {50}  # no reading missing


def test_an_unreachable_broker_at_start_is_a_clear_error_and_a_non_zero_exit(run_simulator):
    class Nowhere:
        port = free_port()

    sim = run_simulator(Nowhere, "--connect-retries", "1")
    assert sim.process.wait(timeout=15) != 0
    assert re.search(r"retrying in 0.5 s \(attempt 1 of 2\)", sim.output())
    assert f"error: cannot reach the MQTT broker at 127.0.0.1:{Nowhere.port} after 2 attempts" in sim.output()


def test_a_broker_that_refuses_the_credentials_is_reported_at_once_without_retrying(tmp_path, run_simulator):
    with LocalBroker(tmp_path / "closed-broker", extra="allow_anonymous false\n") as broker:
        sim = run_simulator(broker, "--username", "device-001", "--password", "wrong")
        assert sim.process.wait(timeout=10) == 1
    assert f"error: the MQTT broker at 127.0.0.1:{broker.port} refused the connection: Not authorized" in sim.output()
    assert "retrying" not in sim.output()


@pytest.mark.parametrize("sig, reason", [(signal.SIGINT, "interrupted"), (signal.SIGTERM, "terminated")])
def test_ctrl_c_and_sigterm_stop_it_cleanly_with_a_final_summary(
    mqtt_broker, run_simulator, subscriber_for, unique_prefix, sig, reason
):
    subscriber = subscriber_for(mqtt_broker)
    sim = run_simulator(mqtt_broker, "--device-id", unique_prefix, "--devices", "2", "--interval", "0.05",
                        "--drop-rate", "0")
    wait_until(lambda: len(subscriber.received(unique_prefix)) >= 10, timeout=10)

    started = time.monotonic()
    assert sim.terminate(sig=sig) == 0
    assert time.monotonic() - started < 3
    summary = final_summary(sim)
    assert summary["reason"] == reason and summary["devices"] == 2 and summary["unsent"] == 0
    subscriber.settle()
    assert len(subscriber.received(unique_prefix)) == summary["published"]


@pytest.mark.parametrize("single_connection", [False, True], ids=["connection-per-device", "single-connection"])
def test_a_fleet_of_1000_devices_keeps_up_with_one_message_a_second_each(
    mqtt_broker, run_simulator, subscriber_for, unique_prefix, single_connection
):
    subscriber = subscriber_for(mqtt_broker)
    options = ["--single-connection"] if single_connection else []
    sim = run_simulator(mqtt_broker, "--device-id", unique_prefix, "--devices", "1000", "--interval", "1",
                        "--drop-rate", "0", "--duration", "6", "--summary-seconds", "1", *options)
    sim.wait_for_output(r"Connected to the MQTT broker")
    process = psutil.Process(sim.process.pid)
    wait_until(lambda: len({p["deviceId"] for p in subscriber.payloads(unique_prefix)}) == 1000, timeout=10,
               message="not every device published its first reading")  # the CPU window starts after that round
    before, window_start = process.cpu_times(), time.monotonic()
    time.sleep(3)  # the window the simulator's CPU is measured over
    after, window_end = process.cpu_times(), time.monotonic()
    cpu = (after.user + after.system - before.user - before.system) / (window_end - window_start)

    assert sim.process.wait(timeout=20) == 0, sim.output()
    summary = final_summary(sim)
    # Kept up: by the 6 s deadline it had made (nearly) all 6,000 readings due, and
    # every one of them reached the subscriber, from all 1,000 devices.
    assert summary["meant"] >= 5900 and summary["unsent"] == 0
    wait_until(lambda: len(subscriber.received(unique_prefix)) >= summary["published"], timeout=10)
    assert len({p["deviceId"] for p in subscriber.payloads(unique_prefix)}) == 1000
    connections = 1 if single_connection else 1000
    summaries = re.findall(r"(\d+)/(\d+) connected \| .* \| lag ([\d.]+) s", sim.output())
    assert summaries and all((int(up), int(of)) == (connections, connections) for up, of, _ in summaries)
    assert max(float(lag) for _, _, lag in summaries) < 1.0
    assert cpu < 0.8, f"the simulator used {cpu:.0%} of a core"
    print(f"1000 devices at 1 msg/s ({'one connection' if single_connection else 'one connection each'}): "
          f"{cpu:.0%} of one core")


def test_broker_credentials_come_from_the_environment(tmp_path):
    password_file = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(password_file), "device-001", "s3cret"], check=True)
    extra = f"allow_anonymous false\npassword_file {password_file}\n"
    with LocalBroker(tmp_path / "closed-broker", extra=extra) as broker:
        sim = ManagedProcess(
            [sys.executable, str(SIMULATOR), "--host", "127.0.0.1", "--port", str(broker.port),
             "--count", "2", "--interval", "0.05", "--drop-rate", "0"],
            log_file=tmp_path / "simulator.log", cwd=REPO_DIR,
            env={"MQTT_USERNAME": "device-001", "MQTT_PASSWORD": "s3cret"},
        ).start()
        assert sim.process.wait(timeout=15) == 0, sim.output()
    assert "published 2" in sim.output()
