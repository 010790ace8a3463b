"""Faults the ingest must survive: real processes, a real Mosquitto, the real database.

Each test breaks one thing while QoS 1 readings stream in (the publisher is a
separate process, devtools.fleet, never the ingest), then checks that the stored
(device, ts) are exactly the readings the broker accepted, that the ingest counted
every redelivery as a duplicate, and prints its figures: readings sent, stored,
duplicates, time to recover.

The short forms run in `make test`; `make test-faults` runs them with the long
durations the issue asks for (FAULTS_BACKLOG_SECONDS=60 ...). See docs/reliability.md.
"""
import ctypes
import os
import re
import sqlite3
import stat
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import psutil
import pytest

from devtools.exactly_once import (accepted_keys, assert_exactly_once, assert_redeliveries_counted, epoch_ms,
                                   stored_count, stored_keys)
from devtools.fleet import FIXED_TS0
from devtools.ingest_log import error_lines
from devtools.memory import RssSampler
from devtools.processes import BACKEND_DIR, ManagedProcess
from devtools.pytest_plugin import sqlite_test_database
from devtools.waiting import wait_until
from telemetry.management.commands.ingest import POSTGRESQL_WRITERS
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

# Every stream's readings: reading n of a device has ts TS0 + n ms.
STREAM = {"ts0": FIXED_TS0, "ts_step_ms": 1}
# A killed ingest's writer process ends by itself once its request pipe closes.
WRITER_EXIT_SECONDS = 15


def stop_ingest(process: ManagedProcess) -> None:
    """SIGTERM; the ingest must exit with code 0 within 10 s (docs/contract.md, "Processes")."""
    assert process.terminate(timeout=10) == 0, process.output()[-3000:]


def wait_for_error(ingest: ManagedProcess) -> str:
    """The ingest's first ERROR line, once it has logged one."""
    return ingest.wait_for_output(r".*\bERROR telemetry\.ingest\b.*", timeout=OUTAGE_SECONDS + 10).group(0)


def finish(fleet, *clean_runs: ManagedProcess, expected: int | None, count=None, keys=None,
           stored_before: int = 0, stored_elsewhere: int = 0) -> tuple[dict, dict]:
    """How every fault test ends: the publisher done, every accepted reading stored, the last ingest run
    stopped with exit code 0; the stored (device, ts) exactly the accepted ones; the redeliveries counted.

    `clean_runs` are the ingest runs that will have stopped by SIGTERM (their counters are exact);
    they stored all the fleet's rows but `stored_before` and, of other streams, `stored_elsewhere` rows.
    `count` and `keys` read the fleet's rows (default: through the test database).
    """
    count = count or (lambda: stored_count(fleet.prefix))
    keys = keys or (lambda: stored_keys(fleet.prefix))
    result = fleet.finish()
    wait_until(lambda: count() >= result["acked_total"], timeout=60,
               message=f"not every reading the broker accepted was stored:\n{clean_runs[-1].output()[-3000:]}")
    stop_ingest(clean_runs[-1])
    assert result["acked_total"] == result["sent"]
    if expected is not None:
        assert result["sent"] == expected
    figures = assert_exactly_once(keys(), accepted_keys(result))
    totals = assert_redeliveries_counted(*clean_runs,
                                         rows_added=figures["stored"] - stored_before + stored_elsewhere)
    return result, {"sent": result["sent"], "acked": result["acked_total"], **figures,
                    "duplicates_counted": totals["duplicates"]}


# --------------------------------------------------------------------------- 1. ingest killed


def test_fault1_ingest_killed_mid_stream_stores_every_reading_exactly_once(
    private_broker, platform_env, start_ingest, start_fleet, report_figures
):
    env = platform_env(private_broker)
    runs = [start_ingest(private_broker, env=env)]
    fleet = start_fleet(private_broker, devices=10, count=1_000, rate=2_000, **STREAM)  # 10,000 readings, ~5 s
    recoveries, sent_at_kills = [], []
    stored_since = 0
    for fraction in (0.3, 0.6):  # SIGKILL twice mid-stream, restart with the same client id
        fleet.wait_for("sent", 10_000 * fraction)
        wait_until(lambda: stored_count(fleet.prefix) > stored_since, timeout=30,
                   message="the ingest stored nothing since it started")  # it is at work: kill it
        runs[-1].kill(children_timeout=WRITER_EXIT_SECONDS)
        sent_at_kills.append(int(fleet.progress()["sent"]))
        restarted_at = time.monotonic()
        backlog = fleet.progress()["acked"]
        stored_since = stored_count(fleet.prefix)
        runs.append(start_ingest(private_broker, env=env))
        wait_until(lambda: stored_count(fleet.prefix) >= backlog, timeout=30)
        recoveries.append(time.monotonic() - restarted_at)

    _, figures = finish(fleet, runs[-1], expected=10_000, stored_before=stored_since)
    report_figures("1 ingest SIGKILL x2 mid-stream", **figures, kills=len(recoveries),
                   sent_at_kills="/".join(map(str, sent_at_kills)),
                   recovery_s="/".join(f"{seconds:.1f}" for seconds in recoveries))


# --------------------------------------------------------------------------- 2. ingest stopped


@pytest.mark.timeout(180 + 3 * BACKLOG_SECONDS)
def test_fault2_backlog_of_a_stopped_ingest_arrives_in_order_within_a_memory_bound(
    private_broker, platform_env, start_ingest, start_fleet, report_figures
):
    live, tail = 2.0, 2.0
    env = platform_env(private_broker)
    # One writer: the rows' ids then follow the order the broker delivered the queue in,
    # which this test reads; two writers (PostgreSQL's default) commit side by side.
    ingest = start_ingest(private_broker, "--writers", "1", env=env)
    fleet = start_fleet(private_broker, devices=FLEET_DEVICES, duration=live + BACKLOG_SECONDS + tail,
                        rate=FLEET_DEVICES * FLEET_RATE_PER_DEVICE, **STREAM)
    fleet.wait_for("elapsed", live)
    wait_until(lambda: stored_count(fleet.prefix) > 0)
    steady = RssSampler(ingest.process.pid)
    steady.start()
    wait_until(lambda: len(steady.samples) >= 10)  # half a second of the ingest keeping up with the live stream
    steady_mb = steady.peak_mb()
    stop_ingest(ingest)

    fleet.wait_for("elapsed", live + BACKLOG_SECONDS, timeout=BACKLOG_SECONDS + 30)
    target = int(fleet.progress()["acked"])  # what the broker had accepted when the ingest starts
    backlog = target - stored_count(fleet.prefix)
    restarted_at = time.monotonic()
    restarted = start_ingest(private_broker, "--writers", "1", env=env)
    draining = RssSampler(restarted.process.pid)
    draining.start()
    wait_until(lambda: stored_count(fleet.prefix) >= target, timeout=60 + BACKLOG_SECONDS)
    drain_seconds = time.monotonic() - restarted_at
    drain_peak_mb = draining.peak_mb()

    _, figures = finish(fleet, ingest, restarted, expected=None)
    out_of_order = 0
    last_ts = {}
    rows = Telemetry.objects.filter(device__device_id__startswith=f"{fleet.prefix}-").order_by("id")
    for device, ts in rows.values_list("device_id", "ts"):  # in the order the rows were written
        if device in last_ts and ts <= last_ts[device]:
            out_of_order += 1
        last_ts[device] = ts
    assert out_of_order == 0, f"{out_of_order} readings stored out of order within their device"
    growth = drain_peak_mb - steady_mb
    report_figures(f"2 ingest stopped {BACKLOG_SECONDS:.0f} s, {FLEET_DEVICES}-device fleet", **figures,
                   backlog=backlog, out_of_order=out_of_order, drain_s=drain_seconds,
                   drain_rate=backlog / drain_seconds, rss_steady_mb=steady_mb, rss_drain_peak_mb=drain_peak_mb)
    assert growth < RSS_GROWTH_LIMIT_MB, (
        f"the ingest grew by {growth:.0f} MiB while draining ({steady_mb:.0f} -> {drain_peak_mb:.0f} MiB)"
    )


# --------------------------------------------------------------------------- 3. broker restarted


SIMULATOR = BACKEND_DIR.parent / "simulator" / "simulator.py"


def test_fault3_broker_restart_loses_nothing_it_had_acknowledged(
    private_broker, platform_env, start_ingest, start_fleet, start_command, report_figures
):
    env = platform_env(private_broker)
    ingest = start_ingest(private_broker, env=env)
    # Two streams: the project's simulator (20 devices, one connection each, as in the field)
    # and the accounting publisher, which records every PUBACK it got.
    fleet = start_fleet(private_broker, devices=10, count=600, rate=750, **STREAM)  # 6,000 readings, ~8 s
    simulator_prefix = f"s{uuid.uuid4().hex[:6]}"
    per_device = 160
    simulator = start_command(
        [sys.executable, str(SIMULATOR), "--device-id", simulator_prefix, "--devices", "20", "--interval", "0.05",
         "--count", str(per_device), "--drop-rate", "0", "--seed", "1", "--summary-seconds", "1",
         "--host", "127.0.0.1", "--port", str(private_broker.port)],
        name="simulator", cwd=SIMULATOR.parent,
    )
    fleet.wait_for("sent", 2_000)  # a third of the way
    wait_until(lambda: stored_count(fleet.prefix) > 0 and stored_count(simulator_prefix) > 0, timeout=30,
               message="the ingest stored nothing of the two streams")

    private_broker.stop()  # SIGTERM: Mosquitto saves its persistent store
    stored_at_stop = stored_count(fleet.prefix)
    time.sleep(OUTAGE_SECONDS)  # the outage itself
    accepted_before_stop = int(fleet.progress()["acked"])  # the publisher is stuck: nothing more is acked
    private_broker.start()
    restarted_at = time.monotonic()
    wait_until(lambda: len(re.findall(r"connected, subscribed", ingest.output())) >= 2, timeout=30,
               message="the ingest did not reconnect by itself")
    fleet.wait_for("connects", 2)
    wait_until(lambda: stored_count(fleet.prefix) >= accepted_before_stop, timeout=30,
               message="readings the broker acknowledged before its restart were not stored")
    recovery = time.monotonic() - restarted_at

    assert simulator.process.wait(timeout=60) == 0, simulator.output()[-3000:]
    summary = re.search(r"meant (\d+), published (\d+), dropped (\d+), unsent (\d+), reconnects (\d+)",
                        simulator.output())
    assert summary, simulator.output()[-3000:]
    meant, published, dropped, unsent, reconnects = map(int, summary.groups())
    assert (meant, published, dropped, unsent) == (20 * per_device, 20 * per_device, 0, 0)
    assert reconnects >= 1, "the simulator did not reconnect after the broker restart"
    wait_until(lambda: stored_count(simulator_prefix) >= published, timeout=30,
               message="readings the simulator published were not stored")
    assert ingest.running, "the ingest exited instead of reconnecting"

    _, figures = finish(fleet, ingest, expected=6_000, stored_elsewhere=published)
    simulated = Counter(stored_keys(simulator_prefix))
    assert sum(simulated.values()) == len(simulated) == published
    assert set(Counter(device for device, _ in simulated).values()) == {per_device}
    report_figures(f"3 broker SIGTERM, down {OUTAGE_SECONDS:.0f} s", **figures,
                   publisher_acked_before_stop=accepted_before_stop, stored_at_stop=stored_at_stop,
                   simulator_published=published, simulator_reconnects=reconnects, recovery_s=recovery)


# --------------------------------------------------------------------------- 4. database locked / down


def run_database_outage(*, fleet, ingest: ManagedProcess, count, break_database, restore_database,
                        expected_reason: str) -> dict:
    """Break the database mid-stream for OUTAGE_SECONDS, restore it, check the ingest caught up.

    `count()` counts the fleet's stored readings by a path the outage does not block.
    """
    wait_until(lambda: count() >= 1_000, timeout=30)
    assert not error_lines(ingest.output()), ingest.output()[-3000:]
    break_database()
    broken_at = time.monotonic()
    wait_for_error(ingest)
    stored_at_break = count()  # once the ingest has hit the fault, nothing more may be stored
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - broken_at)))  # the rest of the outage
    stored_during = count()
    assert ingest.running, f"the ingest exited during the outage:\n{ingest.output()[-3000:]}"
    restore_database()
    restored_at = time.monotonic()
    accepted = int(fleet.progress()["acked"])
    wait_until(lambda: count() >= accepted, timeout=60,
               message="the ingest did not catch up once the database was back")
    recovery = time.monotonic() - restored_at
    assert stored_during == stored_at_break, "rows were written while the database was away"
    return {"stored_at_break": stored_at_break, "recovery_s": recovery}


def assert_outage_logged_once(ingest: ManagedProcess, reason: str, *, writers: int = 1) -> None:
    """One ERROR line for the outage from each writer that met it (an ingest on PostgreSQL has two)."""
    errors = error_lines(ingest.output())
    pids = [re.search(r"writer pid (\d+)", line) for line in errors]
    assert 1 <= len(errors) <= writers and all(pids), "the outage should be logged once:\n" + "\n".join(errors)
    assert len({pid.group(1) for pid in pids}) == len(errors), "a writer logged the outage twice:\n" + "\n".join(errors)
    assert all(re.search(reason, line, re.IGNORECASE) for line in errors), errors


def test_fault4_sqlite_locked_exclusively_the_ingest_retries_unacked_and_catches_up(
    private_broker, platform_env, start_ingest, start_fleet, report_figures
):
    database = sqlite_test_database()
    # A busy timeout shorter than the lock, so the ingest's write fails and is retried
    # (with the default 30 s it would simply wait on the lock).
    env = platform_env(private_broker, SQLITE_BUSY_TIMEOUT_SECONDS="0.5")
    ingest = start_ingest(private_broker, env=env)
    fleet = start_fleet(private_broker, devices=10, count=500, rate=1_000, **STREAM)  # 5,000 readings, ~5 s
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
    _, figures = finish(fleet, ingest, expected=5_000)
    assert_outage_logged_once(ingest, r"locked")
    report_figures(f"4 SQLite locked (BEGIN EXCLUSIVE) {OUTAGE_SECONDS:.0f} s", **figures, **outage,
                   errors_logged=1)


def test_fault4_postgres_unavailable_the_ingest_retries_unacked_and_catches_up(
    private_broker, platform_env, start_process, start_ingest, start_fleet, postgres_database, report_figures
):
    import psycopg

    admin, name, url = postgres_database
    env = platform_env(private_broker, DATABASE_URL=url)
    migrate = start_process("migrate", "--noinput", env=env)
    assert migrate.process.wait(timeout=120) == 0, migrate.output()[-3000:]
    monitor = psycopg.connect(url, autocommit=True)

    def rows() -> list[tuple[str, object]]:
        return monitor.execute("SELECT device_id, ts FROM telemetry_telemetry WHERE device_id LIKE %s",
                               (f"{fleet.prefix}-%",)).fetchall()

    def refuse_connections() -> None:
        # No new connection (superusers included), and the ingest's current one is cut.
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
                      (name, monitor.info.backend_pid))

    ingest = start_ingest(private_broker, env=env)
    fleet = start_fleet(private_broker, devices=10, count=500, rate=1_000, **STREAM)
    try:
        outage = run_database_outage(
            fleet=fleet, ingest=ingest, count=lambda: len(rows()), break_database=refuse_connections,
            restore_database=lambda: admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'),
            expected_reason=r"terminat|connection|accepting",
        )
        _, figures = finish(fleet, ingest, expected=5_000, count=lambda: len(rows()),
                            keys=lambda: Counter((device, epoch_ms(ts)) for device, ts in rows()))
    finally:
        monitor.close()
    assert_outage_logged_once(ingest, r"terminat|connection|accepting", writers=POSTGRESQL_WRITERS)
    report_figures(f"4 PostgreSQL refusing connections {OUTAGE_SECONDS:.0f} s", **figures, **outage,
                   errors_logged=len(error_lines(ingest.output())))


# --------------------------------------------------------------------------- 6. disk full / read-only


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


def hold_through_outage(ingest: ManagedProcess, prefix: str, started_at: float, what: str) -> tuple[int, str]:
    """Wait for the ingest's error, then check it writes nothing and stays up for the outage.

    Returns the rows stored when the error came, and the error.
    """
    error = wait_for_error(ingest)
    stored_at_error = stored_count(prefix)
    time.sleep(max(1.0, OUTAGE_SECONDS - (time.monotonic() - started_at)))  # the rest of the outage
    assert stored_count(prefix) == stored_at_error, f"rows were written to {what}"
    assert ingest.running, f"the ingest exited on {what}:\n{ingest.output()[-3000:]}"
    return stored_at_error, error


def test_fault6_read_only_database_the_ingest_stops_acking_and_catches_up_when_writable(
    private_broker, platform_env, start_ingest, start_fleet, tmp_path, report_figures
):
    database = sqlite_test_database()
    reason = honours_read_only_files(tmp_path)
    if reason:
        pytest.skip(reason)
    env = platform_env(private_broker)
    first = start_ingest(private_broker, env=env, piped=True)
    fleet = start_fleet(private_broker, devices=10, count=500, rate=1_000, **STREAM)  # 5,000 readings, ~5 s
    wait_until(lambda: stored_count(fleet.prefix) >= 1_000, timeout=30)
    # A connection already open keeps writing through a chmod, as on any Unix; the file turns
    # read-only while the ingest restarts, so the restarted ingest meets it.
    stop_ingest(first)
    mode = stat.S_IMODE(database.stat().st_mode)
    try:
        database.chmod(0o444)
        ingest = start_ingest(private_broker, env=env, piped=True, preexec_fn=_drop_file_permission_override)
        stored_at_error, error = hold_through_outage(ingest, fleet.prefix, time.monotonic(), "a read-only database")
    finally:
        database.chmod(mode)
    writable_at = time.monotonic()
    accepted = int(fleet.progress()["acked"])
    wait_until(lambda: stored_count(fleet.prefix) >= accepted, timeout=60,
               message="the ingest did not catch up once the database was writable")
    recovery = time.monotonic() - writable_at

    _, figures = finish(fleet, first, ingest, expected=5_000)
    assert error_lines(ingest.output()) == [error]
    assert re.search(r"read-?only", error, re.IGNORECASE), error
    report_figures(f"6 read-only database file {OUTAGE_SECONDS:.0f} s", **figures, stored_at_error=stored_at_error,
                   errors_logged=1, recovery_s=recovery)


def test_fault6_disk_full_the_ingest_acks_nothing_it_could_not_write(
    private_broker, platform_env, start_ingest, start_fleet, report_figures
):
    sqlite_test_database()
    env = platform_env(private_broker)
    ingest = start_ingest(private_broker, env=env, piped=True)
    fleet = start_fleet(private_broker, devices=10, count=500, rate=1_000, **STREAM)  # 5,000 readings, ~5 s
    wait_until(lambda: stored_count(fleet.prefix) >= 1_000, timeout=30)

    # The disk fills up: the ingest and its writer process may not write one byte more to any
    # file (RLIMIT_FSIZE 0); each write fails as on a full disk. Logs go through a pipe.
    family = [psutil.Process(ingest.process.pid), *psutil.Process(ingest.process.pid).children(recursive=True)]
    for member in family:
        member.rlimit(psutil.RLIMIT_FSIZE, (0, member.rlimit(psutil.RLIMIT_FSIZE)[1]))
    stored_at_error, error = hold_through_outage(ingest, fleet.prefix, time.monotonic(), "a full disk")
    assert error_lines(ingest.output()) == [error]
    assert re.search(r"disk|full|I/O", error, re.IGNORECASE), error
    # Killed now, with space still gone: whatever it acked is stored, the rest is the broker's.
    ingest.kill(children_timeout=WRITER_EXIT_SECONDS)
    restarted_at = time.monotonic()
    stored_before_restart = stored_count(fleet.prefix)
    restarted = start_ingest(private_broker, env=env, piped=True)  # space is back
    accepted = int(fleet.progress()["acked"])
    wait_until(lambda: stored_count(fleet.prefix) >= accepted, timeout=60,
               message="the restarted ingest did not store the readings the full disk had refused")
    recovery = time.monotonic() - restarted_at

    _, figures = finish(fleet, restarted, expected=5_000, stored_before=stored_before_restart)
    report_figures(f"6 disk full {OUTAGE_SECONDS:.0f} s, ingest killed and restarted", **figures,
                   stored_at_error=stored_at_error, errors_logged=1, recovery_s=recovery)
