"""Read replicas against a real PostgreSQL streaming replica, with the real web, ingest and worker processes.

A private primary and a `pg_basebackup -R` replica of it run for this module. The proof
that a read was served by the replica is its replay paused: a primary commit is then
invisible there, and only there, until replay resumes. The replica's connection log
shows which processes ever connected to it.
"""
import statistics
import time
import uuid

import pytest
import requests

from devtools.broker import free_port
from devtools.postgres_replica import StreamingReplica, postgres_bin_dir
from devtools.processes import ManagedProcess
from devtools.waiting import wait_until

BIN_DIR = postgres_bin_dir()
pytestmark = pytest.mark.skipif(
    BIN_DIR is None, reason="PostgreSQL's server programs are not installed (make postgres installs them)"
)

ADMIN_USER, ADMIN_PASSWORD = "operator", "operator-password-1"
RETRY_SECONDS = 0.5
LAG_WRITES = 200


@pytest.fixture(scope="module")
def pair():
    """A primary and its streaming replica, for this module."""
    servers = StreamingReplica(BIN_DIR).start()
    yield servers
    servers.close()


@pytest.fixture(scope="module")
def database(pair, tmp_path_factory):
    """A migrated platform database on the primary, with a superuser; its name."""
    name = f"telemetry_{uuid.uuid4().hex[:8]}"
    with pair.primary.connect() as primary:
        primary.execute(f'CREATE DATABASE "{name}"')
    logs = tmp_path_factory.mktemp("replica-setup")
    env = platform_env(pair, name, "telemetry-setup")
    for command in (("migrate", "--noinput", "-v0"), ("createsuperuser", "--noinput")):
        process = ManagedProcess.manage(*command, log_file=logs / f"{command[0]}.log", env={
            **env, "DJANGO_SUPERUSER_USERNAME": ADMIN_USER, "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD,
            "DJANGO_SUPERUSER_EMAIL": "operator@example.com"}).start()
        assert process.process.wait(timeout=120) == 0, process.output()
    return name


def platform_env(pair, database: str, application_name: str, **overrides) -> dict[str, str]:
    """A platform process's environment: primary and replica, each connection named after the process."""
    query = f"?application_name={application_name}"
    return {
        "DATABASE_URL": pair.primary.url(database) + query,
        "DATABASE_REPLICA_URL": pair.replica.url(database) + query,
        "DATABASE_REPLICA_RETRY_SECONDS": str(RETRY_SECONDS),
        **overrides,
    }


class Web:
    """The web process (runserver, threaded) and an HTTP session to it."""

    def __init__(self, process: ManagedProcess, port: int):
        self.process = process
        self.base = f"http://127.0.0.1:{port}"
        self.session = requests.Session()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.base + path, timeout=30, **kwargs)

    def api(self, path: str):
        response = self.get(path)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def web(pair, database, tmp_path_factory):
    port = free_port()
    process = ManagedProcess.manage("runserver", "--noreload", f"127.0.0.1:{port}",
                                    log_file=tmp_path_factory.mktemp("web") / "web.log",
                                    env=platform_env(pair, database, "telemetry-web")).start()
    server = Web(process, port)

    def answers():
        try:
            return server.get("/api/health/").status_code == 200
        except requests.ConnectionError:
            assert process.running, process.output()
            return False

    wait_until(answers, timeout=60, message="the web process did not answer")
    yield server
    process.terminate()


def sql(server, database: str, query: str, params=()):
    with server.connect(database) as connection:
        cursor = connection.execute(query, params)
        return cursor.fetchall() if cursor.description else None


def wait_for_replay(pair, timeout: float = 30.0) -> float:
    """Wait until the replica has replayed everything the primary has committed; the seconds it took."""
    lsn, started = pair.primary_lsn(), time.monotonic()
    wait_until(lambda: pair.replay_lsn_reached(lsn), timeout, interval=0.001, message="the replica did not catch up")
    return time.monotonic() - started


def report(capsys, text: str) -> None:
    """One line of figures on the terminal, even under pytest's output capture."""
    with capsys.disabled():
        print(f"\n[replica figures] {text}", flush=True)


def admin_login(web: Web) -> None:
    page = web.get("/admin/login/")
    response = web.session.post(web.base + "/admin/login/?next=/admin/", timeout=30, allow_redirects=False, data={
        "username": ADMIN_USER, "password": ADMIN_PASSWORD, "next": "/admin/",
        "csrfmiddlewaretoken": csrf_token(page.text)})
    assert response.status_code == 302, response.text[-2000:]


def csrf_token(html: str) -> str:
    marker = 'name="csrfmiddlewaretoken" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def test_api_reads_come_from_the_replica_while_the_admin_reads_and_writes_on_the_primary(pair, database, web):
    device = f"dev-{uuid.uuid4().hex[:6]}"
    sql(pair.primary, database, "INSERT INTO devices_device (device_id, name, device_type, location, metadata, status,"
        " created_at) VALUES (%s, 'before', '', '', '{}', 'ONLINE', now())", [device])
    wait_for_replay(pair)
    assert web.api(f"/api/devices/{device}/")["name"] == "before"

    pair.pause_replay()
    try:
        # Logging in writes a session on the primary; every admin page below reads it there.
        admin_login(web)
        change = f"/admin/devices/device/{device}/change/"
        form = web.get(change)
        assert form.status_code == 200 and 'value="before"' in form.text, form.text[-2000:]
        saved = web.session.post(web.base + change, timeout=30, allow_redirects=False, data={
            "csrfmiddlewaretoken": csrf_token(form.text), "device_id": device, "name": "after",
            "device_type": "", "location": "", "metadata": "{}", "status": "ONLINE",
            "last_seen_0": "", "last_seen_1": "", "_save": "Save"})
        assert saved.status_code == 302, saved.text[-3000:]

        # The write is on the primary and the admin shows it at once...
        assert sql(pair.primary, database, "SELECT name FROM devices_device WHERE device_id = %s", [device]) == [("after",)]
        assert 'value="after"' in web.get(change).text
        # ...while the API, reading the paused replica, still answers with what the replica has.
        assert web.api(f"/api/devices/{device}/")["name"] == "before"
        assert {"device_id": device, "name": "before"}.items() <= next(
            row for row in web.api("/api/devices/") if row["device_id"] == device).items()
    finally:
        pair.resume_replay()
    wait_for_replay(pair)
    assert web.api(f"/api/devices/{device}/")["name"] == "after"


def test_ingest_and_worker_use_only_the_primary_and_the_api_sees_their_rows_once_replayed(
        pair, database, web, mqtt_broker, start_process, publisher_for, capsys):
    device = f"hot-{uuid.uuid4().hex[:6]}"
    broker_env = {"MQTT_HOST": "127.0.0.1", "MQTT_PORT": str(mqtt_broker.port),
                  "MQTT_CLIENT_ID": f"ingest-{uuid.uuid4().hex[:8]}"}
    ingest = start_process("ingest", "--flush-ms", "20", "--summary-seconds", "1",
                           env=platform_env(pair, database, "telemetry-ingest", **broker_env))
    ingest.wait_for_output(r"connected, subscribed")
    worker = start_process("process_tasks", "--duration=0", "--sleep=1",
                           env=platform_env(pair, database, "telemetry-worker", **broker_env))
    worker.wait_for_output(r"worker started")
    publisher = publisher_for(mqtt_broker)

    pair.pause_replay()
    try:
        publisher.reading(device, temperature=45.0, humidity=40.0)
        wait_until(lambda: sql(pair.primary, database, "SELECT count(*) FROM telemetry_telemetry WHERE device_id = %s",
                               [device]) == [(1,)], timeout=30, message="the ingest did not store the reading")
        # The worker saw the reading: it read the primary, the replica does not have it.
        wait_until(lambda: sql(pair.primary, database, "SELECT alert_type FROM alerts_alert WHERE device_id = %s",
                               [device]) == [("HIGH_TEMP",)], timeout=30, message="the worker raised no HIGH_TEMP")
        assert web.get(f"/api/telemetry/?deviceId={device}").status_code == 404
        assert not [alert for alert in web.api("/api/alerts/") if alert["device_id"] == device]
    finally:
        pair.resume_replay()
    wait_for_replay(pair)
    assert [row["temperature"] for row in web.api(f"/api/telemetry/?deviceId={device}")] == [45.0]
    assert [alert["alert_type"] for alert in web.api(f"/api/alerts/?deviceId={device}")] == ["HIGH_TEMP"]

    # Unpaused, a new reading reaches the API through the replica within the replication lag.
    publisher.reading(device, temperature=21.5, humidity=40.0)
    wait_until(lambda: sql(pair.primary, database, "SELECT count(*) FROM telemetry_telemetry WHERE device_id = %s",
                           [device]) == [(2,)], timeout=30, interval=0.001)
    stored = time.monotonic()
    wait_until(lambda: len(web.api(f"/api/telemetry/?deviceId={device}")) == 2, timeout=10, interval=0.005,
               message="the API did not see the new reading")
    report(capsys, f"ingest commit -> API read through the replica: {(time.monotonic() - stored) * 1000:.0f} ms")

    assert ingest.terminate() == 0
    assert worker.terminate() == 0
    replica_log, primary_log = pair.replica.log(), pair.primary.log()
    for name in ("telemetry-ingest", "telemetry-worker"):
        assert f"application_name={name}" in primary_log
        assert f"application_name={name}" not in replica_log
    assert "application_name=telemetry-web" in replica_log


def test_replication_lag_over_200_writes(pair, capsys):
    """From a commit on the primary to its visibility on the replica; figures printed, every write seen."""
    with pair.primary.connect() as primary, pair.replica.connect() as replica:
        primary.execute("CREATE TABLE IF NOT EXISTS lag_probe (id integer PRIMARY KEY, at timestamptz)")
        wait_for_replay(pair)
        lags = []
        for number in range(LAG_WRITES):
            primary.execute("INSERT INTO lag_probe VALUES (%s, now())", [number])
            committed = time.perf_counter()
            wait_until(lambda: replica.execute("SELECT 1 FROM lag_probe WHERE id = %s", [number]).fetchone(),
                       timeout=10, interval=0)
            lags.append(time.perf_counter() - committed)
    assert len(lags) == LAG_WRITES
    report(capsys, f"lag over {LAG_WRITES} writes: median {statistics.median(lags) * 1000:.1f} ms,"
                   f" p95 {statistics.quantiles(lags, n=20)[-1] * 1000:.1f} ms, max {max(lags) * 1000:.1f} ms")


def test_with_the_replica_stopped_the_api_answers_from_the_primary_and_says_so_once(pair, database, web):
    device = f"kept-{uuid.uuid4().hex[:6]}"
    sql(pair.primary, database, "INSERT INTO devices_device (device_id, name, device_type, location, metadata, status,"
        " created_at) VALUES (%s, '', '', '', '{}', 'ONLINE', now())", [device])
    wait_for_replay(pair)
    assert any(row["device_id"] == device for row in web.api("/api/devices/"))  # a kept replica connection
    pair.replica.stop()
    try:
        # Requests spread over several retry periods: one log line for the whole outage.
        deadline = time.monotonic() + 4 * RETRY_SECONDS
        answered = 0
        while time.monotonic() < deadline or answered < 5:
            assert any(row["device_id"] == device for row in web.api("/api/devices/"))
            health = web.api("/api/health/")
            assert set(health) == {"status", "database", "mqtt", "worker", "timestamp"}
            assert health["database"] == "connected"
            answered += 1
        assert web.process.output().count("read replica unreachable") == 1, web.process.output()[-3000:]
    finally:
        pair.replica.start()
    wait_until(lambda: web.get("/api/devices/").status_code == 200 and "read replica is back" in web.process.output(),
               timeout=30, interval=0.1, message="API reads did not return to the replica")
    # Back on the replica: with its replay paused, a new primary row is not seen by the API.
    late = f"late-{uuid.uuid4().hex[:6]}"
    pair.pause_replay()
    try:
        sql(pair.primary, database, "INSERT INTO devices_device (device_id, name, device_type, location, metadata,"
            " status, created_at) VALUES (%s, '', '', '', '{}', 'ONLINE', now())", [late])
        assert web.get(f"/api/devices/{late}/").status_code == 404
    finally:
        pair.resume_replay()
