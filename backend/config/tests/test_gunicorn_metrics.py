"""The web's /metrics behind gunicorn with several workers: the sum over every worker (prometheus_client multiprocess)."""
import os
import signal
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from devtools.broker import free_port
from devtools.metrics import sample, scrape
from devtools.processes import ManagedProcess
from devtools.pytest_plugin import database_url
from devtools.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 3
REQUESTS = 90
COUNTER = "django_http_requests_total_by_view_transport_method_total"
LABELS = {"view": "device-list", "transport": "http", "method": "GET"}


@pytest.fixture
def metrics_dir(tmp_path):
    return tmp_path / "metrics"


@pytest.fixture
def start_gunicorn(tmp_path, metrics_dir):
    """Start gunicorn with config/gunicorn.conf.py, WORKERS sync workers and multiprocess metrics; its port."""
    started = []

    def start() -> tuple[ManagedProcess, int]:
        port = free_port()
        process = ManagedProcess.gunicorn(
            port=port,
            log_file=tmp_path / f"gunicorn-{len(started)}.log",
            env={
                "GUNICORN_WORKERS": str(WORKERS),
                # Each access line names the worker (its pid) that answered.
                "GUNICORN_CMD_ARGS": "--access-logformat 'served-by %(p)s %(U)s'",
                "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
                "DATABASE_URL": database_url(connection.settings_dict),
            },
        ).start()
        started.append(process)
        wait_until(lambda: process.output().count("Booting worker") >= WORKERS, timeout=30,
                   message=f"gunicorn did not boot {WORKERS} workers:\n{process.output()[-3000:]}")
        wait_until(lambda: _scrape_or_none(port), timeout=30, interval=0.2,
                   message=f"gunicorn never answered /metrics:\n{process.output()[-3000:]}")
        return process, port

    yield start
    for process in started:
        process.kill()


def _scrape_or_none(port: int):
    try:
        return scrape(port)
    except OSError:
        return None


def get_many(port: int, count: int) -> None:
    """`count` GET /api/devices/, several at once, so that every worker takes some."""
    def get(_):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/devices/", timeout=30) as response:
            assert response.status == 200

    with ThreadPoolExecutor(max_workers=2 * WORKERS) as pool:
        list(pool.map(get, range(count)))


def workers_that_served(process: ManagedProcess) -> set[str]:
    return {line.split()[1].strip("<>") for line in process.output().splitlines()
            if line.startswith("served-by ") and line.endswith(" /api/devices/")}


def test_metrics_count_the_requests_of_every_worker_and_keep_a_replaced_workers_counts(start_gunicorn, metrics_dir):
    web, port = start_gunicorn()
    before = sample(scrape(port), COUNTER, **LABELS)
    get_many(port, REQUESTS)
    serving = wait_until(lambda: len(workers_that_served(web)) > 1 and workers_that_served(web), timeout=10,
                         message="one worker answered every request: the test proves nothing")
    # Every scrape, whichever worker answers it, sees all of them.
    for _ in range(WORKERS * 2):
        assert sample(scrape(port), COUNTER, **LABELS) - before == REQUESTS

    # A worker killed and replaced: its requests still count, and the new one's are added.
    victim = int(sorted(serving)[0])
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: web.output().count("Booting worker") >= WORKERS + 1, timeout=30,
               message=f"gunicorn did not replace the killed worker:\n{web.output()[-3000:]}")
    get_many(port, REQUESTS)
    for _ in range(WORKERS * 2):
        assert sample(scrape(port), COUNTER, **LABELS) - before == 2 * REQUESTS
    assert web.terminate() == 0


def test_a_restarted_gunicorn_counts_from_zero(start_gunicorn, metrics_dir):
    first, port = start_gunicorn()
    get_many(port, REQUESTS)
    assert sample(scrape(port), COUNTER, **LABELS) == REQUESTS
    assert first.terminate() == 0
    assert list(metrics_dir.glob("counter_*.db")), "no metrics files: multiprocess mode was not on"

    _, port = start_gunicorn()
    get_many(port, 5)
    assert sample(scrape(port), COUNTER, **LABELS) == 5
