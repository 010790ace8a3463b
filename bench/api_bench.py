"""API benchmarks: a seeded database of N readings, the real web server, a real HTTP client."""
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from devtools.broker import free_port
from devtools.processes import ManagedProcess

BENCH_DIR = Path(__file__).resolve().parent
BACKEND_DIR = BENCH_DIR.parent / "backend"
HOT_DEVICE = "hot-00001"  # one reading a second for the last 24 h: 86,400 readings


def _manage(env: dict, *args: str) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=BACKEND_DIR, env=env,
                            capture_output=True, text=True, check=True)
    return result.stdout


def seed(env: dict, *, rows: int, devices: int) -> dict:
    _manage(env, "migrate", "--noinput", "-v0")
    started = time.monotonic()
    _manage(env, "seed_telemetry", "--devices", str(devices), "--readings", str(rows))
    _manage(env, "seed_telemetry", "--devices", "1", "--readings", "86400", "--prefix", "hot")
    return {"seed_rows": rows + 86400, "seed_seconds": time.monotonic() - started}


def measure(host: str, port: int, paths, count: int) -> dict:
    """Latency percentiles (ms) and mean response size (KB) of `count` sequential keep-alive GETs."""
    connection = http.client.HTTPConnection(host, port, timeout=30)
    latencies, sizes = [], []
    for index in range(count):
        path = paths(index) if callable(paths) else paths
        started = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        latencies.append((time.perf_counter() - started) * 1000)
        sizes.append(len(body))
        assert response.status == 200, f"{path}: {response.status} {body[:200]!r}"
    connection.close()
    latencies.sort()
    return {
        "p50_ms": latencies[len(latencies) // 2],
        "p95_ms": latencies[int(len(latencies) * 0.95)],
        "p99_ms": latencies[int(len(latencies) * 0.99)],
        "size_kb": statistics.mean(sizes) / 1024,
    }


def alert_pass(env: dict, devices: int, database_url: str | None = None) -> dict:
    """bench/alert_pass.py's figures: a fresh SQLite file, or the empty database `database_url` names."""
    extra = ["--database-url", database_url] if database_url else []
    result = subprocess.run([sys.executable, str(BENCH_DIR / "alert_pass.py"), "--devices", str(devices), *extra],
                            cwd=BACKEND_DIR, env=env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def fresh_postgres_database(server_url: str, name: str) -> str:
    """Create (again) database `name` on the PostgreSQL server of `server_url`; its URL."""
    import psycopg

    base = server_url.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def api_benchmark(root: Path, *, rows: int, devices: int, requests: int, database_url: str | None = None,
                  alerts: bool = True) -> dict:
    """The API's latencies on a seeded SQLite file in `root`, or on the database `database_url` names."""
    database_url = database_url or f"sqlite:///{root / 'api.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_DEBUG": "false", "LOG_LEVEL": "WARNING"}
    figures = seed(env, rows=rows, devices=devices)
    if database_url.startswith("postgres"):
        # Fresh statistics for the planner, as autovacuum would have gathered them by now.
        _manage(env, "dbshell", "--", "-c", "VACUUM ANALYZE telemetry_telemetry")

    port = free_port()
    # gunicorn, as in production: runserver's wsgiref server adds ~40 ms to every
    # keep-alive response (Nagle's algorithm against delayed ACKs).
    server = ManagedProcess(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--log-level", "info"],
        log_file=root / "web.log", env=env, cwd=BACKEND_DIR,
    ).start()
    try:
        server.wait_for_output(r"Booting worker", timeout=30)
        ids = [f"seed-{n:05d}" for n in range(1, devices + 1)]
        rng = random.Random(1)
        measure("127.0.0.1", port, "/api/devices/", 5)  # warm up caches and the connection
        endpoints = {
            "api_telemetry_limit100": lambda i: f"/api/telemetry/?deviceId={rng.choice(ids)}&limit=100",
            "api_devices_list": "/api/devices/",
            "api_stats_avg_24h": f"/api/stats/avg/?deviceId={HOT_DEVICE}&window=24h",
            "api_series_24h": f"/api/telemetry/series/?deviceId={HOT_DEVICE}&window=24h",
            "api_fleet_stats_5m": "/api/stats/fleet/?window=5m",
        }
        for name, paths in endpoints.items():
            for key, value in measure("127.0.0.1", port, paths, requests).items():
                figures[f"{name}_{key}"] = value
    finally:
        server.terminate()
    if alerts:
        figures.update(alert_pass(env, devices=100_000))
    return figures
