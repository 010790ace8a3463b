"""A 1,000,000-row export streams from a real gunicorn worker in constant memory."""
import csv
import http.client
import io
import os
import sys
import time

import psutil
import pytest
from django.db import connection

from devtools.factories import make_device
from devtools.waiting import wait_until

ROWS = int(os.environ.get("EXPORT_MEMORY_ROWS", "1000000"))
# What the worker may grow by while streaming. Holding the rows would take hundreds of MB
# (the CSV text alone is 60 MB); one 5,000-row chunk takes about a megabyte.
RSS_GROWTH_BOUND_MB = 40
# The test's own worker timeout: a sync worker must finish a response within it.
WORKER_TIMEOUT = 300


def seed_readings(device_id: str, rows: int) -> None:
    """`rows` readings of one device, one a second from 2026-03-01, in one INSERT ... SELECT."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "INSERT INTO telemetry_telemetry (device_id, ts, temperature, humidity, battery, received_at) "
                "SELECT %s, TIMESTAMPTZ '2026-03-01 00:00:00+00' + n * INTERVAL '1 second', 20 + n %% 10, "
                "50.5, NULL, now() FROM generate_series(0, %s - 1) AS n",
                [device_id, rows],
            )
            # As autovacuum would after such a load: without statistics the planner sorts
            # the whole device for every chunk instead of walking the index.
            cursor.execute("ANALYZE telemetry_telemetry")
        else:
            # Django's own SQLite text form of a whole-second UTC datetime, so keyset comparisons hold.
            cursor.execute(
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < %s) "
                "INSERT INTO telemetry_telemetry (device_id, ts, temperature, humidity, battery, received_at) "
                "SELECT %s, strftime('%%Y-%%m-%%d %%H:%%M:%%S', 1772323200 + i, 'unixepoch'), 20 + i %% 10, "
                "50.5, NULL, '2026-03-01 00:00:00' FROM n",
                [rows, device_id],
            )


@pytest.fixture
def start_web(start_gunicorn, transactional_db):
    """The production web with a short worker timeout; returns (port, its worker's psutil.Process)."""

    def start(**env: str) -> tuple[int, psutil.Process]:
        port, process = start_gunicorn(GUNICORN_TIMEOUT=WORKER_TIMEOUT, **env)
        worker = wait_until(lambda: psutil.Process(process.process.pid).children(), timeout=30)[0]
        return port, worker

    return start


@pytest.fixture
def web(start_web):
    return start_web()


def get(port: int, path: str) -> http.client.HTTPResponse:
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=WORKER_TIMEOUT)
    client.request("GET", path, headers={"X-Forwarded-Proto": "https"})
    return client.getresponse()


def test_a_million_row_export_stays_under_a_fixed_memory_bound(web, capsys):
    port, worker = web
    make_device("device-001")
    seed_readings("device-001", ROWS)
    # Warm up: the first request imports and connects; that memory is not the export's.
    warm = get(port, "/api/telemetry/export/?deviceId=device-001&until=2026-03-01T00:10:00Z")
    assert warm.status == 200 and len(warm.read().splitlines()) == 602
    baseline = worker.memory_info().rss
    cpu_before = sum(worker.cpu_times()[:2])

    started = time.monotonic()
    response = get(port, "/api/telemetry/export/?deviceId=device-001")
    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked"  # streamed, never a Content-Length
    peak, lines, tail = baseline, 0, b""
    while block := response.read(1 << 20):
        lines += block.count(b"\n")
        tail = (tail + block)[-200:]
        peak = max(peak, worker.memory_info().rss)
    seconds = time.monotonic() - started
    cpu_seconds = sum(worker.cpu_times()[:2]) - cpu_before

    assert lines == ROWS + 1
    last = list(csv.reader(io.StringIO(tail.decode().splitlines()[-1])))[0]
    assert last[:2] == ["device-001", "2026-03-12T13:46:39.000Z"] if ROWS == 1_000_000 else last[0] == "device-001"
    growth_mb = (peak - baseline) / 2**20
    with capsys.disabled():
        print(f"\nexport: {ROWS} rows in {seconds:.1f} s = {ROWS / seconds:,.0f} rows/s "
              f"(worker CPU {cpu_seconds:.1f} s "
              f"= {ROWS / cpu_seconds:,.0f} rows per CPU second); worker RSS "
              f"{baseline / 2**20:.0f} MB before, peak {peak / 2**20:.0f} MB (+{growth_mb:.1f} MB) on "
              f"{connection.vendor}")
    assert growth_mb < RSS_GROWTH_BOUND_MB


@pytest.mark.skipif(connection.vendor != "postgresql", reason="statement_timeout is PostgreSQL's")
def test_an_export_longer_than_the_statement_timeout_completes(start_web):
    # Each chunk is its own short statement, so only a single statement longer than the
    # limit could be cancelled, and none is: the export outlasts the limit many times over.
    port, _ = start_web(WEB_STATEMENT_TIMEOUT_SECONDS="0.2")
    make_device("device-001")
    seed_readings("device-001", 300_000)
    started = time.monotonic()
    response = get(port, "/api/telemetry/export/?deviceId=device-001&format=ndjson")
    body = response.read()
    seconds = time.monotonic() - started
    assert response.status == 200
    assert body.count(b"\n") == 300_000
    assert body.endswith(b'"battery":null}\n')
    assert seconds > 1.0, f"the export took {seconds:.2f} s, too short to show anything about a 0.2 s limit"
