"""Database timeouts: a dead host fails fast everywhere; on PostgreSQL the web's queries end before its worker does."""
import http.client
import json
import os
import socket
import subprocess
import sys
import time

import pytest
from django.db import connection

from devtools.factories import make_device, make_readings
from devtools.processes import BACKEND_DIR
from devtools.pytest_plugin import database_url
from devtools.waiting import wait_until

SHOW_STATEMENT_TIMEOUT = (
    "from django.db import connection\n"
    "with connection.cursor() as cursor:\n"
    "    cursor.execute('SHOW statement_timeout')\n"
    "    print('statement_timeout=' + cursor.fetchone()[0])\n"
)


@pytest.fixture
def postgresql():
    """Skips the test unless the test database is PostgreSQL."""
    if connection.vendor != "postgresql":
        pytest.skip("statement_timeout and connect_timeout are PostgreSQL's; the test database is not")


def run_python(code: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Python in backend/ with the project's settings, as a process of the platform would start."""
    return subprocess.run([sys.executable, "-c", code], cwd=BACKEND_DIR, capture_output=True, text=True,
                          timeout=timeout, env={**_base_env(), **env})


def _base_env() -> dict[str, str]:
    """This environment without the settings the tests choose themselves."""
    chosen = ("DJANGO_SETTINGS_MODULE", "GUNICORN_TIMEOUT", "WEB_STATEMENT_TIMEOUT_SECONDS", "DATABASE_CONNECT_TIMEOUT_SECONDS")
    return {key: value for key, value in os.environ.items() if key not in chosen}


@pytest.fixture
def silent_database_host():
    """A TCP port on 127.0.0.1 that takes connections and never answers, like a hung database host."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)  # never accepted: the kernel completes the handshake, nothing ever replies
    yield server.getsockname()[1]
    server.close()


def test_a_database_host_that_never_answers_fails_within_the_connect_timeout(silent_database_host):
    code = (
        "import django, time\n"
        "django.setup()\n"
        "from django.db import connection\n"
        "started = time.monotonic()\n"
        "try:\n"
        "    connection.ensure_connection()\n"
        "except Exception as error:\n"
        "    print(f'failed after {time.monotonic() - started:.1f} s: {error}')\n"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://telemetry@127.0.0.1:{silent_database_host}/telemetry",
        "DATABASE_CONNECT_TIMEOUT_SECONDS": "2",
    }
    started = time.monotonic()
    result = run_python(code, env, timeout=30)  # libpq's own default would wait 130 s
    took = time.monotonic() - started
    assert "failed after" in result.stdout, result.stdout + result.stderr
    failed_after = float(result.stdout.split("failed after ")[1].split(" s")[0])
    assert 1.5 <= failed_after < 2 + 3, result.stdout
    assert took < 2 + 15


@pytest.mark.django_db
def test_connect_timeout_is_in_the_connection_parameters(postgresql):
    connection.ensure_connection()
    assert connection.connection.info.get_parameters()["connect_timeout"] == "5"


@pytest.mark.django_db
def test_only_the_web_has_a_statement_timeout(postgresql):
    env = {"DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": database_url(connection.settings_dict)}

    # What gunicorn and runserver load: config.wsgi.
    web = run_python("import config.wsgi\n" + SHOW_STATEMENT_TIMEOUT, env)
    assert "statement_timeout=15s" in web.stdout, web.stdout + web.stderr

    # The ingest, the worker and every other command: manage.py with the same settings.
    command = subprocess.run([sys.executable, "manage.py", "shell", "-c", SHOW_STATEMENT_TIMEOUT], cwd=BACKEND_DIR,
                             capture_output=True, text=True, timeout=60, env={**_base_env(), **env})
    assert "statement_timeout=0" in command.stdout, command.stdout + command.stderr


def test_a_statement_timeout_at_or_above_the_worker_timeout_stops_the_web():
    result = run_python("import config.wsgi", {"GUNICORN_TIMEOUT": "10", "WEB_STATEMENT_TIMEOUT_SECONDS": "10"})
    assert result.returncode != 0
    assert "WEB_STATEMENT_TIMEOUT_SECONDS=10 must be below GUNICORN_TIMEOUT=10" in result.stderr


WORKER_TIMEOUT = 10
STATEMENT_TIMEOUT = 1


@pytest.fixture
def web(start_gunicorn):
    """gunicorn with one worker, the production settings and a 1 s statement timeout; yields a GET function."""
    port, _ = start_gunicorn(GUNICORN_TIMEOUT=WORKER_TIMEOUT, WEB_STATEMENT_TIMEOUT_SECONDS=STATEMENT_TIMEOUT,
                             API_CACHE_SECONDS=0)

    def get(path: str) -> tuple[int, dict, float]:
        started = time.monotonic()
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=WORKER_TIMEOUT + 20)
        try:
            client.request("GET", path, headers={"X-Forwarded-Proto": "https"})
            response = client.getresponse()
            return response.status, json.loads(response.read()), time.monotonic() - started
        finally:
            client.close()

    def answers() -> bool:
        try:
            return get("/api/health/")[0] == 200
        except OSError:
            return False

    wait_until(answers, timeout=30, interval=0.1, message="gunicorn did not answer /api/health/")
    return get


@pytest.fixture
def readings_locked():
    """Another session holding an exclusive lock on the readings table, so any query of it waits."""
    import psycopg

    settings = connection.settings_dict
    other = psycopg.connect(dbname=settings["NAME"], user=settings["USER"] or None,
                            password=settings["PASSWORD"] or None, host=settings["HOST"] or None,
                            port=settings["PORT"] or None)
    other.execute("LOCK TABLE telemetry_telemetry IN ACCESS EXCLUSIVE MODE")

    def release() -> None:
        other.rollback()

    yield release
    other.close()


@pytest.mark.django_db(transaction=True)
def test_a_query_past_the_statement_timeout_is_cancelled_and_answered_503(postgresql, web, request):
    make_readings(make_device("device-001"), 10)
    release = request.getfixturevalue("readings_locked")

    status, body, took = web("/api/stats/fleet/?window=2h")
    assert status == 503
    assert body == {"error": "the database took too long to answer; try again shortly, or ask for a shorter window"}
    assert STATEMENT_TIMEOUT <= took < WORKER_TIMEOUT, f"answered after {took:.1f} s"

    release()
    status, body, _ = web("/api/stats/fleet/?window=2h")  # the same worker and connection go on serving
    assert status == 200 and body[0]["data_points"] == 10
