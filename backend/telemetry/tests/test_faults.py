"""Faults the ingest must survive: real processes, a real Mosquitto, the real database.

Each test breaks one thing while QoS 1 readings stream in (the publisher is a
separate process, never the ingest), then checks that every reading the broker
accepted is stored exactly once, and prints its figures: readings sent, stored,
duplicates, time to recover.

The short forms run in `make test`; `make test-faults` runs them with the long
durations the issue asks for (FAULTS_BACKLOG_SECONDS=60 ...). See docs/reliability.md.
"""
import ast
import ctypes
import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path

import psutil
import pytest
from django.db import connection

from devtools.processes import BACKEND_DIR, ManagedProcess
from devtools.waiting import wait_until
from telemetry.models import Telemetry

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def _env_number(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


# Fault 2: how long the fleet publishes while the ingest is stopped, and how fast.
# `make test` keeps it short; `make test-faults` runs the 60 s.
BACKLOG_SECONDS = _env_number("FAULTS_BACKLOG_SECONDS", 10)
FLEET_DEVICES = 100
FLEET_RATE_PER_DEVICE = _env_number("FAULTS_FLEET_RATE", 10)  # readings/s per device
# Faults 3, 4, 6: how long the broker, the database or the disk stays away.
OUTAGE_SECONDS = _env_number("FAULTS_OUTAGE_SECONDS", 4)
# Fault 2: the ingest's resident memory may grow at most this much while it drains.
RSS_GROWTH_LIMIT_MB = _env_number("FAULTS_RSS_GROWTH_MB", 32)
# Fault 4 on PostgreSQL: a server where the test may create and drop a database.
POSTGRES_ADMIN_URL = os.environ.get("FAULTS_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

TS0 = 1_728_481_425_000  # epoch ms of every stream's first reading; reading n of a device is TS0 + n
FLUSH_ARGS = ("--flush-ms", "20", "--summary-seconds", "1")


# --------------------------------------------------------------------------- publisher

# The publishing fleet, run as its own process. One paho client publishes the
# readings of N devices round-robin at QoS 1 (reading n of a device has ts TS0 + n),
# keeps at most `window` unacknowledged, reconnects by itself, prints progress, and
# finally writes which readings the broker acknowledged (PUBACK).
PUBLISHER_SCRIPT = r"""
import json, sys, threading, time
import paho.mqtt.client as mqtt

cfg = json.loads(sys.argv[1])
devices = [f"{cfg['prefix']}-{i:03d}" for i in range(1, cfg["devices"] + 1)]
cond = threading.Condition()
state = {"acked": 0, "connects": 0}

def on_connect(client, userdata, flags, reason_code, properties):
    if not reason_code.is_failure:
        with cond:
            state["connects"] += 1

def on_publish(client, userdata, mid, reason_code, properties):
    with cond:
        state["acked"] += 1
        cond.notify_all()

client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                     client_id=cfg["client_id"], clean_session=True)
client.max_inflight_messages_set(cfg["window"])
client.reconnect_delay_set(min_delay=0.1, max_delay=1.0)
client.on_connect = on_connect
client.on_publish = on_publish
client.connect_async(cfg["host"], cfg["port"], keepalive=10)
client.loop_start()

sent, seq, infos = 0, 0, []
started = last_progress = time.monotonic()

def progress(force=False):
    global last_progress
    now = time.monotonic()
    if force or now - last_progress >= 0.25:
        last_progress = now
        print(f"progress sent={sent} acked={state['acked']} connects={state['connects']} "
              f"elapsed={now - started:.2f}", flush=True)

while True:
    if cfg.get("count") is not None and seq >= cfg["count"]:
        break
    if cfg.get("duration") is not None and time.monotonic() - started >= cfg["duration"]:
        break
    for index, device in enumerate(devices):
        with cond:
            while sent - state["acked"] >= cfg["window"]:
                cond.wait(0.25)
                progress()
        body = json.dumps({"deviceId": device, "ts": cfg["ts0"] + seq,
                           "temperature": round(20 + (seq % 100) / 10, 1), "humidity": 50.0})
        infos.append((client.publish(f"devices/{device}/telemetry", body, qos=1), index, seq))
        sent += 1
        if cfg["rate"]:
            ahead = sent / cfg["rate"] - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
        progress()
    seq += 1

deadline = time.monotonic() + cfg["drain_timeout"]
with cond:
    while state["acked"] < sent and time.monotonic() < deadline:
        cond.wait(0.25)
        progress()
progress(force=True)
acked = {device: [] for device in devices}
for info, index, n in infos:
    # is_published() raises for a message first published while disconnected, even once
    # it has been resent and acknowledged; the flag itself says whether PUBACK came.
    if info._published:
        acked[devices[index]].append(n)
client.disconnect()
client.loop_stop()
with open(cfg["result"], "w") as out:
    json.dump({"sent": sent, "acked": acked, "connects": state["connects"],
               "seconds": time.monotonic() - started}, out)
print(f"done sent={sent} acked={sum(map(len, acked.values()))}", flush=True)
"""


class Fleet:
    """The publisher process and what it reports."""

    def __init__(self, process: ManagedProcess, result: Path, prefix: str):
        self.process = process
        self.result_file = result
        self.prefix = prefix

    def progress(self) -> dict[str, float]:
        """The latest progress line: sent, acked, connects, elapsed."""
        lines = re.findall(r"progress (sent=.*)", self.process.output())
        if not lines:
            return {"sent": 0, "acked": 0, "connects": 0, "elapsed": 0.0}
        return {key: float(value) for key, value in re.findall(r"(\w+)=([\d.]+)", lines[-1])}

    def wait_for(self, key: str, at_least: float, timeout: float = 30.0) -> None:
        wait_showing(lambda: self.progress()[key] >= at_least, timeout, f"the publisher never reached {key}={at_least}",
                     self.process)

    def finish(self, timeout: float = 120.0) -> dict:
        """Wait for the publisher to end; its result, with `acked` as {device: set of n}."""
        deadline = time.monotonic() + timeout
        while self.process.running and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not self.process.running, f"publisher still running after {timeout} s"
        assert self.process.process.returncode == 0, self.process.output()[-3000:]
        result = json.loads(self.result_file.read_text())
        result["acked"] = {device: set(numbers) for device, numbers in result["acked"].items()}
        result["acked_total"] = sum(map(len, result["acked"].values()))
        return result


@pytest.fixture
def start_fleet(tmp_path):
    """Start publisher processes; all are killed after the test."""
    fleets: list[Fleet] = []

    def start(broker, *, devices: int, count: int | None = None, duration: float | None = None,
              rate: float = 0, window: int = 100, drain_timeout: float = 60.0) -> Fleet:
        prefix = f"f{uuid.uuid4().hex[:6]}"
        result = tmp_path / f"{prefix}-result.json"
        config = {
            "host": "127.0.0.1", "port": broker.port, "client_id": f"fleet-{prefix}", "prefix": prefix,
            "devices": devices, "count": count, "duration": duration, "rate": rate, "window": window,
            "ts0": TS0, "drain_timeout": drain_timeout, "result": str(result),
        }
        process = ManagedProcess([sys.executable, "-c", PUBLISHER_SCRIPT, json.dumps(config)],
                                 log_file=tmp_path / f"{prefix}-publisher.log").start()
        fleets.append(Fleet(process, result, prefix))
        return fleets[-1]

    yield start
    for fleet in fleets:
        fleet.process.kill()


# --------------------------------------------------------------------------- checks


def ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def stored_count(prefix: str) -> int:
    return Telemetry.objects.filter(device__device_id__startswith=f"{prefix}-").count()


def stored_rows(prefix: str) -> list[tuple[str, int, int]]:
    """(device, id, n) of every stored reading of a fleet, n = ts - TS0."""
    rows = Telemetry.objects.filter(device__device_id__startswith=f"{prefix}-").values_list("device_id", "id", "ts")
    return [(device, row_id, ms(ts) - TS0) for device, row_id, ts in rows]


def assert_exactly_once(rows: list[tuple[str, int, int]], expected: dict[str, set[int]]) -> dict[str, int]:
    """Every expected reading stored, none twice, nothing else; returns the figures."""
    keys = [(device, n) for device, _, n in rows]
    distinct = set(keys)
    figures = {"stored": len(keys), "distinct": len(distinct), "duplicate_rows": len(keys) - len(distinct)}
    assert figures["duplicate_rows"] == 0
    assert Counter(device for device, _ in keys) == Counter({d: len(ns) for d, ns in expected.items() if ns})
    missing = {(d, n) for d, ns in expected.items() for n in ns} - distinct
    assert not missing, f"{len(missing)} readings lost, e.g. {sorted(missing)[:5]}"
    return figures


def ingest_totals(*processes: ManagedProcess) -> Counter:
    """The counters the ingest logs when it stops (and, for a killed run, its last summary)."""
    totals = Counter()
    for process in processes:
        output = process.output()
        final = re.findall(r"ingest stopped \(totals: (\{.*\})\)", output)
        if final:
            totals.update(ast.literal_eval(final[-1]))
            continue
        running = re.findall(r"\(totals: ([^)]*)\)", output)
        if running:
            totals.update({k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", running[-1])})
    return totals


def wait_showing(condition, timeout: float, failure: str, process: ManagedProcess):
    """wait_until, failing with what `process` had printed by then."""
    try:
        return wait_until(condition, timeout=timeout)
    except AssertionError:
        raise AssertionError(f"{failure} within {timeout:.0f} s; its output:\n{process.output()[-3000:]}") from None


def stop_ingest(process: ManagedProcess) -> None:
    """SIGTERM; the ingest must exit with code 0 within 10 s (docs/contract.md)."""
    assert process.terminate(timeout=10) == 0, process.output()[-3000:]


def error_lines(output: str) -> list[str]:
    """The ingest's ERROR log lines (the settings' format: time LEVEL logger: message)."""
    return [line for line in output.splitlines() if re.search(r"\bERROR telemetry\.ingest\b", line)]


def report(capsys, fault: str, **figures) -> None:
    """Print one fault's figures to the terminal, even while pytest captures output."""
    text = " ".join(f"{key}={value:.1f}" if isinstance(value, float) else f"{key}={value}"
                    for key, value in figures.items())
    with capsys.disabled():
        print(f"\n[fault figures] {fault}: {text}", flush=True)


def sqlite_test_database() -> Path:
    if connection.vendor != "sqlite":
        pytest.skip(f"needs the SQLite test database, not {connection.vendor}")
    return Path(connection.settings_dict["NAME"])


# --------------------------------------------------------------------------- 1. ingest killed


def test_fault1_ingest_killed_mid_stream_stores_every_reading_exactly_once(
    private_broker, platform_env, start_ingest, start_fleet, capsys
):
    env = platform_env(private_broker)
    ingest = start_ingest(private_broker, env=env)
    fleet = start_fleet(private_broker, devices=10, count=1_000, rate=2_000)  # 10,000 readings, ~5 s
    runs = [ingest]
    recoveries, sent_at_kills = [], []
    stored_since = 0
    for fraction in (0.3, 0.6):  # SIGKILL twice mid-stream, restart with the same client id
        fleet.wait_for("sent", 10_000 * fraction)
        wait_until(lambda: stored_count(fleet.prefix) > stored_since, timeout=30,
                   message="the ingest stored nothing since it started")  # it is at work: kill it
        runs[-1].kill()
        sent_at_kills.append(int(fleet.progress()["sent"]))
        time.sleep(0.5)
        restarted_at = time.monotonic()
        backlog = fleet.progress()["acked"]
        stored_since = stored_count(fleet.prefix)
        runs.append(start_ingest(private_broker, env=env))
        wait_until(lambda: stored_count(fleet.prefix) >= backlog, timeout=30)
        recoveries.append(time.monotonic() - restarted_at)

    result = fleet.finish()
    wait_until(lambda: stored_count(fleet.prefix) >= result["acked_total"], timeout=30)
    time.sleep(0.5)  # let redeliveries in flight land (they must not add rows)
    stop_ingest(runs[-1])
    assert result["sent"] == result["acked_total"] == 10_000
    figures = assert_exactly_once(stored_rows(fleet.prefix), result["acked"])
    assert figures["stored"] == figures["distinct"] == 10_000
    totals = ingest_totals(*runs)
    report(capsys, "1 ingest SIGKILL x2 mid-stream", sent=result["sent"], acked=result["acked_total"],
           kills=len(recoveries), sent_at_kills="/".join(map(str, sent_at_kills)), **figures,
           redeliveries_absorbed=totals["duplicates"],
           recovery_s="/".join(f"{seconds:.1f}" for seconds in recoveries))


# --------------------------------------------------------------------------- 2. ingest stopped


class RssSampler(threading.Thread):
    """Samples a process's resident memory every 50 ms until stopped."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.samples: list[int] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                self.samples.append(self.process.memory_info().rss)
            except psutil.Error:
                return
            self.halt.wait(0.05)

    def peak_mb(self) -> float:
        self.halt.set()
        self.join()
        return max(self.samples) / 2**20


@pytest.mark.timeout(180 + 3 * BACKLOG_SECONDS)
def test_fault2_backlog_of_a_stopped_ingest_arrives_in_order_within_a_memory_bound(
    private_broker, platform_env, start_ingest, start_fleet, capsys
):
    live, tail = 2.0, 2.0
    env = platform_env(private_broker)
    ingest = start_ingest(private_broker, env=env)
    fleet = start_fleet(private_broker, devices=FLEET_DEVICES, duration=live + BACKLOG_SECONDS + tail,
                        rate=FLEET_DEVICES * FLEET_RATE_PER_DEVICE)
    fleet.wait_for("elapsed", live)
    wait_until(lambda: stored_count(fleet.prefix) > 0)
    steady = RssSampler(ingest.process.pid)
    steady.start()
    time.sleep(0.5)
    steady_mb = steady.peak_mb()  # the ingest's memory while it keeps up with the live stream
    stop_ingest(ingest)

    fleet.wait_for("elapsed", live + BACKLOG_SECONDS, timeout=BACKLOG_SECONDS + 30)
    target = int(fleet.progress()["acked"])  # what the broker had accepted when the ingest starts
    backlog = target - stored_count(fleet.prefix)
    restarted_at = time.monotonic()
    restarted = start_ingest(private_broker, env=env)
    draining = RssSampler(restarted.process.pid)
    draining.start()
    wait_until(lambda: stored_count(fleet.prefix) >= target, timeout=60 + BACKLOG_SECONDS)
    drain_seconds = time.monotonic() - restarted_at

    result = fleet.finish(timeout=60)
    wait_until(lambda: stored_count(fleet.prefix) >= result["acked_total"], timeout=60)
    drain_peak_mb = draining.peak_mb()
    time.sleep(0.5)
    stop_ingest(restarted)

    assert result["acked_total"] == result["sent"]
    rows = stored_rows(fleet.prefix)
    figures = assert_exactly_once(rows, result["acked"])
    out_of_order = 0
    last_n: dict[str, int] = {}
    for device, _, n in sorted(rows, key=lambda row: row[1]):  # in the order the rows were written
        if n <= last_n.get(device, -1):
            out_of_order += 1
        last_n[device] = n
    assert out_of_order == 0, f"{out_of_order} readings stored out of order within their device"
    growth = drain_peak_mb - steady_mb
    report(capsys, f"2 ingest stopped {BACKLOG_SECONDS:.0f} s, {FLEET_DEVICES}-device fleet", sent=result["sent"],
           backlog=backlog, **figures, out_of_order=out_of_order,
           redeliveries_absorbed=ingest_totals(ingest, restarted)["duplicates"], drain_s=drain_seconds,
           drain_rate=backlog / drain_seconds, rss_steady_mb=steady_mb, rss_drain_peak_mb=drain_peak_mb)
    assert growth < RSS_GROWTH_LIMIT_MB, (
        f"the ingest grew by {growth:.0f} MiB while draining ({steady_mb:.0f} -> {drain_peak_mb:.0f} MiB)"
    )


# --------------------------------------------------------------------------- 3. broker restarted


SIMULATOR = BACKEND_DIR.parent / "simulator" / "simulator.py"


def test_fault3_broker_restart_loses_nothing_it_had_acknowledged(
    private_broker, platform_env, start_ingest, start_fleet, tmp_path, capsys
):
    env = platform_env(private_broker)
    ingest = start_ingest(private_broker, env=env)
    # Two streams: the project's simulator (20 devices, one connection each, as in the field)
    # and the accounting publisher, which records every PUBACK it got.
    fleet = start_fleet(private_broker, devices=10, count=600, rate=750)  # 6,000 readings, ~8 s
    simulator_prefix = f"s{uuid.uuid4().hex[:6]}"
    per_device = 160
    simulator = ManagedProcess(
        [sys.executable, str(SIMULATOR), "--device-id", simulator_prefix, "--devices", "20", "--interval", "0.05",
         "--count", str(per_device), "--drop-rate", "0", "--seed", "1", "--summary-seconds", "1",
         "--host", "127.0.0.1", "--port", str(private_broker.port)],
        log_file=tmp_path / "simulator.log", cwd=SIMULATOR.parent,
    ).start()
    try:
        fleet.wait_for("sent", 2_000)  # a third of the way
        wait_until(lambda: stored_count(fleet.prefix) > 0 and stored_count(simulator_prefix) > 0, timeout=30,
                   message="the ingest stored nothing of the two streams")

        private_broker.stop()  # SIGTERM: Mosquitto saves its persistent store
        stored_at_stop = stored_count(fleet.prefix)
        time.sleep(OUTAGE_SECONDS)
        accepted_before_stop = int(fleet.progress()["acked"])  # the publisher is stuck: nothing more is acked
        private_broker.start()
        restarted_at = time.monotonic()
        wait_showing(lambda: len(re.findall(r"connected, subscribed", ingest.output())) >= 2, 30,
                     "the ingest did not reconnect by itself", ingest)
        fleet.wait_for("connects", 2)
        wait_until(lambda: stored_count(fleet.prefix) >= accepted_before_stop, timeout=30,
                   message="readings the broker acknowledged before its restart were not stored")
        recovery = time.monotonic() - restarted_at

        result = fleet.finish()
        assert simulator.process.wait(timeout=60) == 0, simulator.output()[-3000:]
    finally:
        simulator.kill()
    summary = re.search(r"meant (\d+), published (\d+), dropped (\d+), unsent (\d+), reconnects (\d+)",
                        simulator.output())
    assert summary, simulator.output()[-3000:]
    meant, published, dropped, unsent, reconnects = map(int, summary.groups())
    assert (meant, published, dropped, unsent) == (20 * per_device, 20 * per_device, 0, 0)
    assert reconnects >= 1, "the simulator did not reconnect after the broker restart"
    wait_until(lambda: stored_count(fleet.prefix) >= result["acked_total"]
               and stored_count(simulator_prefix) >= published, timeout=30)
    time.sleep(0.5)
    assert ingest.running, "the ingest exited instead of reconnecting"
    stop_ingest(ingest)

    assert result["acked_total"] == result["sent"] == 6_000
    figures = assert_exactly_once(stored_rows(fleet.prefix), result["acked"])
    simulated = Telemetry.objects.filter(device__device_id__startswith=f"{simulator_prefix}-")
    simulated_keys = list(simulated.values_list("device_id", "ts"))
    assert len(set(simulated_keys)) == len(simulated_keys) == published
    assert set(Counter(device for device, _ in simulated_keys).values()) == {per_device}
    report(capsys, f"3 broker SIGTERM, down {OUTAGE_SECONDS:.0f} s", sent=result["sent"] + meant,
           publisher_sent=result["sent"], publisher_acked_before_stop=accepted_before_stop,
           stored_at_stop=stored_at_stop, **figures, simulator_published=published,
           simulator_stored=len(simulated_keys), simulator_reconnects=reconnects,
           redeliveries_absorbed=ingest_totals(ingest)["duplicates"], recovery_s=recovery)


# --------------------------------------------------------------------------- 4. database locked / down


def run_database_outage(*, fleet: Fleet, ingest: ManagedProcess, count, break_database, restore_database,
                        expected_reason: str) -> dict:
    """Break the database mid-stream for OUTAGE_SECONDS, restore it, check the ingest caught up.

    `count()` counts the fleet's stored readings by a path the outage does not block.
    """
    wait_until(lambda: count() >= 1_000, timeout=30)
    errors_before = len(error_lines(ingest.output()))
    break_database()
    broken_at = time.monotonic()
    wait_showing(lambda: len(error_lines(ingest.output())) > errors_before, OUTAGE_SECONDS + 10,
                 "the ingest logged no error while the database was away", ingest)
    stored_at_break = count()  # once the ingest has hit the fault, nothing more may be stored
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - broken_at)))
    stored_during = count()
    assert ingest.running, f"the ingest exited during the outage:\n{ingest.output()[-3000:]}"
    restore_database()
    restored_at = time.monotonic()
    accepted = int(fleet.progress()["acked"])
    wait_until(lambda: count() >= accepted, timeout=60,
               message="the ingest did not catch up once the database was back")
    recovery = time.monotonic() - restored_at

    result = fleet.finish()
    wait_until(lambda: count() >= result["acked_total"], timeout=30)
    time.sleep(0.5)
    assert ingest.running
    new_errors = error_lines(ingest.output())[errors_before:]
    assert len(new_errors) == 1, "the outage should be logged once:\n" + "\n".join(new_errors)
    assert re.search(expected_reason, new_errors[0], re.IGNORECASE), new_errors[0]
    assert stored_during == stored_at_break, "rows were written while the database was away"
    return {"result": result, "stored_at_break": stored_at_break, "recovery": recovery, "error": new_errors[0]}


def test_fault4_sqlite_locked_exclusively_the_ingest_retries_unacked_and_catches_up(
    private_broker, platform_env, start_ingest, start_fleet, capsys
):
    database = sqlite_test_database()
    # A busy timeout shorter than the lock, so the ingest's write fails and is retried
    # (with the default 30 s it would simply wait on the lock).
    env = platform_env(private_broker, SQLITE_BUSY_TIMEOUT_SECONDS="0.5")
    ingest = start_ingest(private_broker, env=env)
    fleet = start_fleet(private_broker, devices=10, count=500, rate=1_000)  # 5,000 readings, ~5 s
    locker = sqlite3.connect(database, timeout=10, isolation_level=None)
    try:
        outage = run_database_outage(
            fleet=fleet, ingest=ingest, count=lambda: stored_count(fleet.prefix),
            break_database=lambda: locker.execute("BEGIN EXCLUSIVE"),
            restore_database=lambda: locker.execute("ROLLBACK"),
            expected_reason=r"locked",
        )
    finally:
        if locker.in_transaction:
            locker.execute("ROLLBACK")
        locker.close()
    stop_ingest(ingest)
    result = outage["result"]
    assert result["acked_total"] == result["sent"] == 5_000
    figures = assert_exactly_once(stored_rows(fleet.prefix), result["acked"])
    report(capsys, f"4 SQLite locked (BEGIN EXCLUSIVE) {OUTAGE_SECONDS:.0f} s", sent=result["sent"],
           stored_at_lock=outage["stored_at_break"], **figures,
           redeliveries_absorbed=ingest_totals(ingest)["duplicates"], errors_logged=1,
           recovery_s=outage["recovery"])


@pytest.fixture
def postgres_database():
    """A fresh PostgreSQL database on the local server, dropped after the test."""
    try:
        import psycopg

        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except Exception as error:  # noqa: BLE001 - any failure to connect means "not available"
        pytest.skip(f"no PostgreSQL reachable at {POSTGRES_ADMIN_URL} (set FAULTS_POSTGRES_URL): {error}")
    name = f"telemetry_faults_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin, name, f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


def test_fault4_postgres_unavailable_the_ingest_retries_unacked_and_catches_up(
    private_broker, platform_env, start_process, start_ingest, start_fleet, postgres_database, capsys
):
    import psycopg

    admin, name, url = postgres_database
    env = platform_env(private_broker, DATABASE_URL=url)
    migrate = start_process("migrate", "--noinput", env=env)
    assert migrate.process.wait(timeout=120) == 0, migrate.output()[-3000:]
    monitor = psycopg.connect(url, autocommit=True)

    def count() -> int:
        return monitor.execute("SELECT count(*) FROM telemetry_telemetry WHERE device_id LIKE %s",
                               (f"{fleet.prefix}-%",)).fetchone()[0]

    def refuse_connections() -> None:
        # No new connection (superusers included), and the ingest's current one is cut.
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
                      (name, monitor.info.backend_pid))

    ingest = start_ingest(private_broker, env=env)
    fleet = start_fleet(private_broker, devices=10, count=500, rate=1_000)
    try:
        outage = run_database_outage(
            fleet=fleet, ingest=ingest, count=count, break_database=refuse_connections,
            restore_database=lambda: admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'),
            expected_reason=r"terminat|connection|accepting",
        )
        stop_ingest(ingest)
        result = outage["result"]
        assert result["acked_total"] == result["sent"] == 5_000
        rows = monitor.execute(
            "SELECT device_id, id, ts FROM telemetry_telemetry WHERE device_id LIKE %s", (f"{fleet.prefix}-%",)
        ).fetchall()
    finally:
        monitor.close()
    figures = assert_exactly_once([(device, row_id, ms(ts) - TS0) for device, row_id, ts in rows], result["acked"])
    report(capsys, f"4 PostgreSQL refusing connections {OUTAGE_SECONDS:.0f} s", sent=result["sent"],
           stored_at_outage=outage["stored_at_break"], **figures,
           redeliveries_absorbed=ingest_totals(ingest)["duplicates"], errors_logged=1,
           recovery_s=outage["recovery"])


# --------------------------------------------------------------------------- 6. disk full / read-only


class PipedProcess(ManagedProcess):
    """A ManagedProcess whose output reaches its log file through a pipe.

    A file-size limit set on the child then limits its database writes, not its
    logging. `preexec_fn` runs in the child before it executes.
    """

    def __init__(self, *args, preexec_fn=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.preexec_fn = preexec_fn

    def start(self) -> "PipedProcess":
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        self.process = subprocess.Popen(self.args, cwd=self.cwd, env=self.env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, preexec_fn=self.preexec_fn)
        threading.Thread(target=self._copy, args=(self.process.stdout,), daemon=True).start()
        return self

    def _copy(self, pipe) -> None:
        with open(self.log_file, "ab") as log:
            for chunk in iter(lambda: os.read(pipe.fileno(), 65536), b""):
                log.write(chunk)
                log.flush()
        pipe.close()


@pytest.fixture
def start_piped_ingest(tmp_path):
    """Start `manage.py ingest` as a PipedProcess; all are killed after the test."""
    started: list[PipedProcess] = []

    def start(env: dict[str, str], preexec_fn=None) -> PipedProcess:
        process = PipedProcess([sys.executable, "manage.py", "ingest", *FLUSH_ARGS], env=env,
                               log_file=tmp_path / f"ingest-piped-{len(started)}.log", cwd=BACKEND_DIR,
                               preexec_fn=preexec_fn).start()
        started.append(process)
        process.wait_for_output(r"connected, subscribed")
        return process

    yield start
    for process in started:
        process.kill()


PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE = 1


def _drop_file_permission_override() -> None:
    """In a child about to exec: as root, give up CAP_DAC_OVERRIDE so file modes apply to it."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE)")


def honours_read_only_files(tmp_path: Path) -> str:
    """'' when a child started with the hook above cannot write a read-only file, else why not."""
    probe = tmp_path / "read-only-probe"
    probe.write_text("")
    probe.chmod(0o444)
    try:
        result = subprocess.run([sys.executable, "-c", f"open({str(probe)!r}, 'a')"], capture_output=True,
                                preexec_fn=_drop_file_permission_override, timeout=30)
    except (OSError, subprocess.SubprocessError) as error:
        return f"cannot drop CAP_DAC_OVERRIDE for the ingest: {error}"
    if result.returncode == 0:
        return "a read-only file stays writable for the ingest here (root with CAP_DAC_OVERRIDE?)"
    return ""


def hold_through_outage(ingest: ManagedProcess, prefix: str, started_at: float, what: str) -> int:
    """Wait for the ingest's error, then check it writes nothing and stays up for the outage.

    Returns the rows stored when the error came.
    """
    wait_showing(lambda: error_lines(ingest.output()), OUTAGE_SECONDS + 10,
                 f"the ingest logged no error on {what}", ingest)
    stored_at_error = stored_count(prefix)
    time.sleep(max(1.0, OUTAGE_SECONDS - (time.monotonic() - started_at)))
    assert stored_count(prefix) == stored_at_error, f"rows were written to {what}"
    assert ingest.running, f"the ingest exited on {what}:\n{ingest.output()[-3000:]}"
    return stored_at_error


def test_fault6_read_only_database_the_ingest_stops_acking_and_catches_up_when_writable(
    private_broker, platform_env, start_piped_ingest, start_fleet, tmp_path, capsys
):
    database = sqlite_test_database()
    reason = honours_read_only_files(tmp_path)
    if reason:
        pytest.skip(reason)
    env = platform_env(private_broker)
    first = start_piped_ingest(env)
    fleet = start_fleet(private_broker, devices=10, count=500, rate=1_000)  # 5,000 readings, ~5 s
    wait_until(lambda: stored_count(fleet.prefix) >= 1_000, timeout=30)
    # A connection already open keeps writing through a chmod, as on any Unix; the file turns
    # read-only while the ingest restarts, so the restarted ingest meets it.
    stop_ingest(first)
    mode = stat.S_IMODE(database.stat().st_mode)
    try:
        database.chmod(0o444)
        ingest = start_piped_ingest(env, preexec_fn=_drop_file_permission_override)
        made_read_only = time.monotonic()
        stored_at_error = hold_through_outage(ingest, fleet.prefix, made_read_only, "a read-only database")
    finally:
        database.chmod(mode)
    writable_at = time.monotonic()
    accepted = int(fleet.progress()["acked"])
    wait_showing(lambda: stored_count(fleet.prefix) >= accepted, 60,
                 "the ingest did not catch up once the database was writable", ingest)
    recovery = time.monotonic() - writable_at

    result = fleet.finish()
    wait_until(lambda: stored_count(fleet.prefix) >= result["acked_total"], timeout=30)
    time.sleep(0.5)
    stop_ingest(ingest)
    [error] = error_lines(ingest.output())
    assert re.search(r"read-?only", error, re.IGNORECASE), error
    assert result["acked_total"] == result["sent"] == 5_000
    figures = assert_exactly_once(stored_rows(fleet.prefix), result["acked"])
    report(capsys, f"6 read-only database file {OUTAGE_SECONDS:.0f} s", sent=result["sent"],
           stored_at_error=stored_at_error, **figures,
           redeliveries_absorbed=ingest_totals(first, ingest)["duplicates"], errors_logged=1, recovery_s=recovery)


def test_fault6_disk_full_the_ingest_acks_nothing_it_could_not_write(
    private_broker, platform_env, start_piped_ingest, start_fleet, capsys
):
    sqlite_test_database()
    env = platform_env(private_broker)
    ingest = start_piped_ingest(env)
    fleet = start_fleet(private_broker, devices=10, count=500, rate=1_000)  # 5,000 readings, ~5 s
    wait_until(lambda: stored_count(fleet.prefix) >= 1_000, timeout=30)

    # The disk fills up: the ingest and its writer process may not write one byte more to any
    # file (RLIMIT_FSIZE 0); each write fails as on a full disk. Logs go through a pipe.
    family = [psutil.Process(ingest.process.pid), *psutil.Process(ingest.process.pid).children(recursive=True)]
    for member in family:
        member.rlimit(psutil.RLIMIT_FSIZE, (0, member.rlimit(psutil.RLIMIT_FSIZE)[1]))
    filled_at = time.monotonic()
    stored_at_error = hold_through_outage(ingest, fleet.prefix, filled_at, "a full disk")
    [error] = error_lines(ingest.output())
    assert re.search(r"disk|full|I/O", error, re.IGNORECASE), error
    # Killed now, with space still gone: whatever it acked is stored, the rest is the broker's.
    ingest.kill()
    restarted_at = time.monotonic()
    restarted = start_piped_ingest(env)  # space is back
    accepted = int(fleet.progress()["acked"])
    wait_showing(lambda: stored_count(fleet.prefix) >= accepted, 60,
                 "the restarted ingest did not store the readings the full disk had refused", restarted)
    recovery = time.monotonic() - restarted_at

    result = fleet.finish()
    wait_until(lambda: stored_count(fleet.prefix) >= result["acked_total"], timeout=30)
    time.sleep(0.5)
    stop_ingest(restarted)
    assert result["acked_total"] == result["sent"] == 5_000
    figures = assert_exactly_once(stored_rows(fleet.prefix), result["acked"])
    report(capsys, f"6 disk full {OUTAGE_SECONDS:.0f} s, ingest killed and restarted", sent=result["sent"],
           stored_at_error=stored_at_error, **figures,
           redeliveries_absorbed=ingest_totals(restarted)["duplicates"], errors_logged=1, recovery_s=recovery)
