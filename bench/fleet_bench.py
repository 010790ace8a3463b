"""Fleet-scale API figures: seeded fleets behind gunicorn's production config, on SQLite and PostgreSQL.

    .venv/bin/python bench/fleet_bench.py --quick                        # 1,000 devices, SQLite
    scripts/with-postgres .venv/bin/python bench/fleet_bench.py          # 1,000 and 10,000 devices
    scripts/with-postgres .venv/bin/python bench/fleet_bench.py --fleet  # 100,000 devices, 50 pollers

For each fleet: p50/p95/p99 and response size of the dashboard's fleet-wide and
per-device requests, sequential on one keep-alive connection; with wrk installed and
PostgreSQL in use, the largest fleet is also polled by 50 dashboard tabs (3 s per tab)
and then driven as fast as it answers (the saturation figure). Prints `name=value` lines.
"""
import argparse
import http.client
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent / "backend"))

import psycopg  # noqa: E402
from devtools.broker import free_port  # noqa: E402
from devtools.processes import ManagedProcess  # noqa: E402

import api_bench  # noqa: E402
import pollers  # noqa: E402

PREFIX = "seed"
STEP_SECONDS = 15  # between a device's seeded readings: the dashboard's 5-minute window holds 20 of each
# Seeding 100,000 devices takes minutes, so before measuring a fleet gets the readings of the
# last 5 minutes and of the next 5 (as far ahead as the ingest lets a device's clock run): the
# dashboard's 5-minute window stays full while it is measured, as if the fleet kept sending.
TOP_UP_READINGS_PER_DEVICE = 2 * 300 // STEP_SECONDS
# The alert worker adds each reading to its device's minute (telemetry/rollups.py), which the
# fleet averages read; no worker runs here, so the minutes of the top-up's window are summed
# from the readings, as the worker would have them (replacing any an earlier run left).
ROLLUP_SUMS = "count(*), count(temperature), coalesce(sum(temperature), 0), count(humidity), coalesce(sum(humidity), 0)"
ROLLUP_INSERT = """
INSERT INTO telemetry_deviceminute AS m
    (device_id, minute, count, temperature_count, temperature_sum, humidity_count, humidity_sum)
SELECT device_id, {minute}, {sums} FROM telemetry_telemetry WHERE ts >= {since} GROUP BY 1, 2
ON CONFLICT (device_id, minute) DO UPDATE SET count = excluded.count,
    temperature_count = excluded.temperature_count, temperature_sum = excluded.temperature_sum,
    humidity_count = excluded.humidity_count, humidity_sum = excluded.humidity_sum
"""
PAGE = 50  # the page the fleet table asks for


@dataclass(frozen=True)
class Fleet:
    devices: int
    readings: dict[str, int]  # per database: "sqlite", "pg"


@dataclass(frozen=True)
class Plan:
    fleets: list[Fleet]
    requests: int
    poller_seconds: int
    saturation_seconds: int
    tabs: int = 50


PLANS = {
    "quick": Plan([Fleet(1000, {"sqlite": 100_000, "pg": 100_000})], requests=50, poller_seconds=10,
                  saturation_seconds=5),
    "full": Plan([Fleet(1000, {"sqlite": 1_000_000, "pg": 1_000_000}),
                  Fleet(10_000, {"sqlite": 2_000_000, "pg": 2_000_000})],
                 requests=200, poller_seconds=30, saturation_seconds=15),
    "fleet": Plan([Fleet(100_000, {"sqlite": 10_000_000, "pg": 100_000_000})], requests=200, poller_seconds=60,
                  saturation_seconds=30),
}


def database_url(kind: str, devices: int, data_dir: Path) -> str:
    """Where one fleet lives: a file in `data_dir`, or a database beside $DATABASE_URL's on its server."""
    if kind == "sqlite":
        return f"sqlite:///{data_dir / f'fleet-{devices}.sqlite3'}"
    base, name = os.environ["DATABASE_URL"].rsplit("/", 1)
    return f"{base}/{name}_fleet_{devices}"


def stored_devices(url: str) -> int:
    """Devices in the fleet's database; 0 when it or its tables do not exist yet."""
    query = "SELECT count(*) FROM devices_device"
    try:
        if url.startswith("sqlite"):
            with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
                return connection.execute(query).fetchone()[0]
        with psycopg.connect(url) as connection:
            return connection.execute(query).fetchone()[0]
    except (sqlite3.Error, psycopg.Error):
        return 0


def seed(env: dict, url: str, fleet: Fleet, kind: str, *, keep: bool) -> dict:
    """A fresh database seeded with the fleet (with `keep`: the one of an earlier run if it holds the fleet)."""
    if keep and stored_devices(url) >= fleet.devices:
        return {}
    if kind == "pg":
        api_bench.fresh_postgres_database(os.environ["DATABASE_URL"], url.rsplit("/", 1)[1])
    else:
        for leftover in Path(url.removeprefix("sqlite:///")).parent.glob(f"fleet-{fleet.devices}.sqlite3*"):
            leftover.unlink()
    started = time.monotonic()
    api_bench._manage(env, "migrate", "--noinput", "-v0")
    api_bench._manage(env, "seed_telemetry", "--devices", str(fleet.devices), "--readings", str(fleet.readings[kind]),
                      "--step", str(STEP_SECONDS), "--prefix", PREFIX)
    if kind == "pg":
        # Fresh statistics for the planner, as autovacuum would have gathered them by now.
        api_bench._manage(env, "dbshell", "--", "-c", "VACUUM ANALYZE")
    return {"seed_readings": fleet.readings[kind], "seed_seconds": time.monotonic() - started}


def database_kinds() -> list[str]:
    """SQLite, and PostgreSQL when DATABASE_URL names a server (as under scripts/with-postgres)."""
    return ["sqlite"] + (["pg"] if os.environ.get("DATABASE_URL", "").startswith("postgres") else [])


def top_up(env: dict, url: str, fleet: Fleet) -> dict:
    """The readings of the 5 minutes before and after now (see TOP_UP_READINGS_PER_DEVICE), and their minutes."""
    started = time.monotonic()
    api_bench._manage(env, "seed_telemetry", "--devices", str(fleet.devices),
                      "--readings", str(fleet.devices * TOP_UP_READINGS_PER_DEVICE), "--step", str(STEP_SECONDS),
                      "--prefix", PREFIX, "--ahead", "300")
    since = datetime.now(tz=UTC) - timedelta(seconds=330)
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///"), timeout=60) as connection:
            connection.execute(ROLLUP_INSERT.format(minute="strftime('%Y-%m-%d %H:%M:00', ts)", sums=ROLLUP_SUMS,
                                                    since="?"), (since.strftime("%Y-%m-%d %H:%M:%S"),))
    else:
        with psycopg.connect(url) as connection:
            connection.execute(ROLLUP_INSERT.format(minute="date_trunc('minute', ts)", sums=ROLLUP_SUMS,
                                                    since="%s"), (since,))
    return {"top_up_seconds": time.monotonic() - started}


def serve(env: dict, log_file: Path) -> tuple[ManagedProcess, int]:
    """gunicorn with the production config (config/gunicorn.conf.py: 2 x cores + 1 sync workers)."""
    port = free_port()
    server = ManagedProcess(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "config/gunicorn.conf.py", "config.wsgi"],
        log_file=log_file, env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
    ).start()
    server.wait_for_output(r"Booting worker", timeout=60)
    return server, port


def probe(port: int, path: str) -> tuple[int, float, bytes]:
    """One GET: its status, milliseconds and body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, (time.perf_counter() - started) * 1000, response.read()
    except (http.client.HTTPException, OSError):  # the worker was killed mid-answer
        return 0, (time.perf_counter() - started) * 1000, b""
    finally:
        connection.close()


def page_is_paged(port: int) -> bool:
    """Whether the server answers `?limit=` with one page (a server without paging lists every device)."""
    status, _, body = probe(port, f"/api/devices/?limit={PAGE}")
    return status == 200 and len(json.loads(body)) <= PAGE


def latencies(port: int, fleet: Fleet, requests: int, *, paged: bool) -> dict:
    """Sequential keep-alive GETs of every endpoint the fleet and device pages poll."""
    rng = random.Random(fleet.devices)

    def device() -> str:
        return f"{PREFIX}-{rng.randint(1, fleet.devices):05d}"

    # A server without paging sends every device for ?limit=50: fewer of those, they take seconds.
    whole_fleet = requests if paged or fleet.devices <= 1000 else max(5, requests // 20)
    # The 5-minute window first, while it still holds the end of the seeded history.
    endpoints = {
        "fleet_stats_page": (f"/api/stats/fleet/?window=5m&limit={PAGE}", whole_fleet),
        "series": (lambda _: f"/api/telemetry/series/?deviceId={device()}&window=5m&points=300", requests),
        "summary": ("/api/stats/summary/", requests),
        "devices_page": (f"/api/devices/?limit={PAGE}", whole_fleet),
        "telemetry": (lambda _: f"/api/telemetry/?deviceId={device()}&limit=100", requests),
        "series_1h": (lambda _: f"/api/telemetry/series/?deviceId={device()}&window=1h&points=300", requests),
    }
    if fleet.devices <= 1000:
        endpoints["devices_all"] = ("/api/devices/", requests)
    figures = {}
    api_bench.measure("127.0.0.1", port, "/api/health/", 5, gzip=True)  # warm up
    for name, (paths, count) in endpoints.items():
        status, took, _ = probe(port, paths(0) if callable(paths) else paths)
        if status != 200:
            # No figures: not served (404), or too slow for gunicorn's timeout (the worker is killed).
            print(f"# {name}: {paths} answered {status or 'nothing'} after {took:.0f} ms", flush=True)
            figures[f"{name}_failed_status"] = status
            figures[f"{name}_failed_after_ms"] = took
            continue
        for key, value in api_bench.measure("127.0.0.1", port, paths, count, gzip=True,
                                                     count_errors=True).items():
            figures[f"{name}_{key}"] = value
    return figures


def fleet_figures(root: Path, plan: Plan, kinds: list[str], *, keep: bool, data_dir: Path,
                  report: Callable[[str, object], None]) -> None:
    """Every figure of the plan, handed to `report` as it is measured: fleet_{sqlite|pg}_{devices}_{what}."""
    for fleet in plan.fleets:
        for kind in kinds:
            url = database_url(kind, fleet.devices, data_dir)
            env = {**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "false", "LOG_LEVEL": "WARNING"}
            name = f"fleet_{kind}_{fleet.devices}"
            for key, value in {**seed(env, url, fleet, kind, keep=keep), **top_up(env, url, fleet)}.items():
                report(f"{name}_{key}", value)
            server, port = serve(env, root / f"{name}-web.log")
            try:
                paged = page_is_paged(port)
                print(f"# {name}: the device list is {'paged' if paged else 'not paged'}", flush=True)
                for key, value in latencies(port, fleet, plan.requests, paged=paged).items():
                    report(f"{name}_{key}", value)
                if kind == "pg" and fleet is plan.fleets[-1] and plan.poller_seconds:
                    base = f"http://127.0.0.1:{port}"
                    load = pollers.dashboard_tabs(base, tabs=plan.tabs, seconds=plan.poller_seconds,
                                                  devices=fleet.devices, prefix=PREFIX, paged=paged)
                    for key, value in load.items():
                        report(f"{name}_pollers{plan.tabs}_{key}", value)
                    load = pollers.dashboard_tabs(base, tabs=plan.tabs, seconds=plan.saturation_seconds,
                                                  devices=fleet.devices, prefix=PREFIX, paged=paged, poll_ms=0)
                    for key, value in load.items():
                        report(f"{name}_saturation_{key}", value)
            finally:
                server.terminate(timeout=30)


def _show(name: str, value) -> None:
    shown = f"{value:.2f}" if isinstance(value, float) else str(value)
    print(f"{name}={shown}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="1,000 devices, 100,000 readings")
    size.add_argument("--fleet", action="store_true", help="100,000 devices, 10 M readings (SQLite), 100 M (PostgreSQL)")
    parser.add_argument("--database", choices=["sqlite", "pg"], action="append",
                        help="only these (default: SQLite, and PostgreSQL when DATABASE_URL names a server)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the seeded databases (in --data-dir and on the server) and reuse them next time")
    parser.add_argument("--data-dir", type=Path, help="where the SQLite fleets live (default: a temporary directory)")
    args = parser.parse_args()
    plan = PLANS["quick" if args.quick else "fleet" if args.fleet else "full"]
    kinds = args.database or database_kinds()
    if "pg" in kinds and plan.poller_seconds and not pollers.wrk_available():
        sys.exit("the concurrent dashboard tabs need Debian's wrk: make wrk (make bench and bench-fleet install it)")
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as root:
        data_dir = args.data_dir or Path(root)
        data_dir.mkdir(parents=True, exist_ok=True)
        fleet_figures(Path(root), plan, kinds, keep=args.keep, data_dir=data_dir, report=_show)


if __name__ == "__main__":
    main()
