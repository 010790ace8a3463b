"""Ingest benchmarks: the real `manage.py ingest` against its baselines on one broker.

Every scenario gets a private broker (the project's mosquitto.conf) and a fresh SQLite
database. Backlogs are published before the subscriber starts (its persistent session
queues them), so the drain measures the subscriber, not the publisher (docs/performance.md,
"Rates of the parts").
"""
import json
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from devtools.broker import LocalBroker
from devtools.fleet import Fleet
from devtools.ingest_log import ingest_totals
from devtools.memory import family_rss
from devtools.processes import ManagedProcess
from devtools.waiting import wait_until

BENCH_DIR = Path(__file__).resolve().parent
BACKEND_DIR = BENCH_DIR.parent / "backend"
PUBLISHERS = 2


@dataclass
class Workspace:
    root: Path
    broker: LocalBroker

    def database(self, name: str) -> Path:
        path = self.root / f"{name}.sqlite3"
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=BACKEND_DIR, env=self.env(path), check=True,
        )
        return path

    def env(self, database: Path | str, client_id: str = "bench-ingest", **overrides: str) -> dict:
        """The environment of a process of this workspace; `database` is a SQLite file or a database URL."""
        import os

        return {
            **os.environ,
            "DATABASE_URL": database if isinstance(database, str) else f"sqlite:///{database}",
            "MQTT_HOST": "127.0.0.1",
            "MQTT_PORT": str(self.broker.port),
            "MQTT_CLIENT_ID": client_id,
            "LOG_LEVEL": "WARNING",
            **overrides,
        }


def publish(workspace: Workspace, *, devices: int, per_device: int, rate: float = 0, live_ts: bool = False,
            wait: bool = True) -> list[Fleet]:
    """Start PUBLISHERS devtools.fleet processes splitting the devices; wait for them unless told not to."""
    share = devices // PUBLISHERS
    fleets = []
    for index in range(PUBLISHERS):
        count = share if index < PUBLISHERS - 1 else devices - share * (PUBLISHERS - 1)
        fleets.append(Fleet.start(workspace.broker.port, prefix="bench", devices=count, log_dir=workspace.root,
                                  first_device=1 + index * share, count=per_device,
                                  rate=rate / PUBLISHERS if rate else None, live_ts=live_ts))
    if wait:
        for fleet in fleets:
            fleet.finish(timeout=per_device * devices / 500 + 120)
    return fleets


def subscriber(workspace: Workspace, kind: str, client_id: str, expect: int, database: Path | None = None) -> dict:
    env = workspace.env(database) if database else workspace.env(workspace.root / "unused.sqlite3")
    result = subprocess.run(
        [sys.executable, str(BENCH_DIR / "subscribers.py"), kind, "--port", str(workspace.broker.port),
         "--client-id", client_id, "--expect", str(expect)],
        env=env, capture_output=True, text=True, check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def stored_count(database: Path) -> int:
    with sqlite3.connect(database, timeout=30) as connection:
        return connection.execute("SELECT COUNT(*) FROM telemetry_telemetry").fetchone()[0]


def start_ingest(workspace: Workspace, database: Path | str, *args: str, client_id: str = "bench-ingest",
                 **env: str) -> ManagedProcess:
    process = ManagedProcess.manage(
        "ingest", *args, log_file=workspace.root / "ingest.log",
        env={**workspace.env(database, client_id, **env), "LOG_LEVEL": "INFO"},
    ).start()
    process.wait_for_output(r"connected, subscribed", timeout=30)
    return process


def wait_for_rows(database: Path, expected: int, timeout: float, on_poll=None) -> float:
    """Poll until `expected` rows are stored; return the monotonic time it was seen."""

    def stored_all() -> bool:
        if on_poll:
            on_poll()
        return stored_count(database) >= expected

    wait_until(stored_all, timeout=timeout, message=f"fewer than {expected} rows stored within {timeout} s")
    return time.monotonic()


def drain_benchmark(workspace: Workspace, *, devices: int, per_device: int, naive_seconds: float,
                    ingest_args: tuple[str, ...] = ()) -> dict:
    """Queue one backlog for three persistent sessions, then drain it with each subscriber."""
    total = devices * per_device
    naive_db = workspace.database("naive")
    ingest_db = workspace.database("ingest")
    subscriber(workspace, "count", "bench-count", 0)
    subscriber(workspace, "naive", "bench-naive", 0, naive_db)
    start_ingest(workspace, ingest_db, *ingest_args).terminate()

    publish(workspace, devices=devices, per_device=per_device)

    ceiling = subscriber(workspace, "count", "bench-count", total)
    figures = {"ceiling_rate": ceiling["received"] / ceiling["seconds"]}

    ingest = start_ingest(workspace, ingest_db, *ingest_args)
    started = time.monotonic()
    rss = []
    finished = wait_for_rows(ingest_db, total, timeout=total / 500 + 60,
                             on_poll=lambda: rss.append(family_rss(ingest.process.pid)))
    assert ingest.terminate() == 0, ingest.output()[-3000:]
    stored = stored_count(ingest_db)  # (device, ts) is unique: a redelivery is counted, never stored twice
    figures.update(
        ingest_drain_rate=total / (finished - started),
        ingest_stored=stored,
        ingest_lost=total - stored,
        ingest_duplicates_counted=ingest_totals(ingest)["duplicates"],
        ingest_rss_peak_mb=max(rss) / 2**20,
        ingest_rss_first_mb=rss[0] / 2**20,
    )

    naive = subscriber_with_cap(workspace, naive_db, total, naive_seconds)
    figures["naive_rate"] = naive
    return figures


def durability_benchmark(workspace: Workspace, *, devices: int, per_device: int,
                         ingest_args: tuple[str, ...] = ()) -> dict:
    """The ingest's drain rate with SQLite synchronous=FULL (the default) and NORMAL, one backlog each."""
    total = devices * per_device
    figures = {}
    for mode in ("FULL", "NORMAL"):
        database = workspace.database(f"sync-{mode.lower()}")
        client_id = f"bench-ingest-{mode.lower()}"
        start_ingest(workspace, database, *ingest_args, client_id=client_id, SQLITE_SYNCHRONOUS=mode).terminate()
        publish(workspace, devices=devices, per_device=per_device)
        ingest = start_ingest(workspace, database, *ingest_args, client_id=client_id, SQLITE_SYNCHRONOUS=mode)
        started = time.monotonic()
        finished = wait_for_rows(database, total, timeout=total / 500 + 60)
        ingest.terminate()
        figures[f"drain_synchronous_{mode.lower()}_rate"] = total / (finished - started)
    return figures


def subscriber_with_cap(workspace: Workspace, database: Path, total: int, seconds: float) -> float:
    """The naive subscriber's rate over at most `seconds` of draining (it is slow)."""
    process = subprocess.Popen(
        [sys.executable, str(BENCH_DIR / "subscribers.py"), "naive", "--port", str(workspace.broker.port),
         "--client-id", "bench-naive", "--expect", str(total)],
        env=workspace.env(database), stdout=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while stored_count(database) == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    started, first = time.monotonic(), stored_count(database)
    while process.poll() is None and time.monotonic() - started < seconds:
        time.sleep(0.1)
    elapsed, stored = time.monotonic() - started, stored_count(database)
    process.kill()
    process.wait()
    return (stored - first) / elapsed


def live_benchmark(workspace: Workspace, *, devices: int, per_device: int, ingest_args: tuple[str, ...] = ()) -> dict:
    """Publishers and ingest at the same time: first publish to last commit."""
    total = devices * per_device
    database = workspace.database("live")
    ingest = start_ingest(workspace, database, *ingest_args)
    started = time.monotonic()
    publishers = publish(workspace, devices=devices, per_device=per_device, wait=False)
    finished = wait_for_rows(database, total, timeout=total / 500 + 60)
    for publisher in publishers:
        publisher.finish()
    ingest.terminate()
    return {"live_rate": total / (finished - started), "live_lost": total - stored_count(database)}


def latency_benchmark(workspace: Workspace, *, rate: float, seconds: float, devices: int,
                      ingest_args: tuple[str, ...] = ()) -> dict:
    """Steady publishing at `rate`: delay from a reading's publish time (its ts) to when its row is visible."""
    database = workspace.database("latency")
    ingest = start_ingest(workspace, database, *ingest_args)
    per_device = int(rate * seconds / devices)
    publishers = publish(workspace, devices=devices, per_device=per_device, rate=rate, live_ts=True, wait=False)
    latencies: list[float] = []
    last_id = 0
    connection = sqlite3.connect(database, timeout=30)
    expected = per_device * devices
    deadline = time.monotonic() + seconds * 3 + 30
    while len(latencies) < expected and time.monotonic() < deadline:
        rows = connection.execute(
            "SELECT id, ts FROM telemetry_telemetry WHERE id > ? ORDER BY id", (last_id,)
        ).fetchall()
        seen_ms = time.time() * 1000
        for row_id, ts in rows:
            last_id = row_id
            latencies.append(seen_ms - _epoch_ms(ts))
        time.sleep(0.01)
    connection.close()
    for publisher in publishers:
        publisher.finish()
    ingest.terminate()
    latencies.sort()
    return {
        "latency_p50_ms": latencies[len(latencies) // 2],
        "latency_p99_ms": latencies[int(len(latencies) * 0.99)],
        "latency_readings": len(latencies),
    }


def _epoch_ms(text: str) -> float:
    from datetime import UTC, datetime

    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000
