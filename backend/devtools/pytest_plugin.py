"""Pytest fixtures: a real broker, real platform processes, MQTT publishers."""
import itertools
import json
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from devtools.broker import LocalBroker
from devtools.fleet import Fleet
from devtools.processes import BACKEND_DIR, GUNICORN_COMMAND, ManagedProcess

# A PostgreSQL server where a test may create and drop a database of its own.
POSTGRES_ADMIN_URL = os.environ.get("FAULTS_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for another process to reach the database Django is using."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}{settings_dict.get('HOST') or 'localhost'}{port}/{settings_dict['NAME']}"


def sqlite_test_database() -> Path:
    """The SQLite file of the test database; skips the test on another database."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip(f"needs the SQLite test database, not {connection.vendor}")
    return Path(connection.settings_dict["NAME"])


@pytest.fixture(scope="session")
def postgres_admin_url():
    """A PostgreSQL server where a test may create and drop databases: FAULTS_POSTGRES_URL's
    (default the local one) when it answers, else a private server on a free port, removed
    after the session."""
    import psycopg

    from devtools.postgres_replica import PostgresServer, postgres_bin_dir

    try:
        psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3).close()
        yield POSTGRES_ADMIN_URL
        return
    except psycopg.OperationalError:
        pass
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (make test installs it)")
    # Not under pytest's tmp_path: its folders are closed to the postgres user.
    folder = Path(tempfile.mkdtemp(prefix="telemetry-faults-pg-"))
    os.chmod(folder, 0o755)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    server = PostgresServer(bin_dir, folder / "data")
    try:
        server.run("initdb", "--auth=trust", "--username=postgres", "--encoding=UTF8", "--no-sync",
                   "-D", str(server.data_dir))
        server.start()
        yield server.url()
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_database(postgres_admin_url):
    """A fresh PostgreSQL database on `postgres_admin_url`'s server, dropped after the test."""
    import psycopg

    admin = psycopg.connect(postgres_admin_url, autocommit=True, connect_timeout=10)
    name = f"telemetry_faults_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin, name, f"{postgres_admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def mqtt_broker(tmp_path_factory):
    """One broker for the session, running the project's mosquitto.conf on a free port."""
    with LocalBroker(tmp_path_factory.mktemp("broker")) as broker:
        yield broker


@pytest.fixture
def private_broker(tmp_path):
    """A broker of this test's own, which the test may stop and restart."""
    broker = LocalBroker(tmp_path / "broker").start()
    yield broker
    broker.stop(hard=True)


@pytest.fixture
def platform_env(django_db_setup, django_db_blocker):
    """Environment for platform processes: the test database and a unique MQTT client id."""
    from django.db import connection

    def make(broker: LocalBroker, **overrides) -> dict[str, str]:
        env = {
            "DATABASE_URL": database_url(connection.settings_dict),
            "MQTT_HOST": "127.0.0.1",
            "MQTT_PORT": str(broker.port),
            "MQTT_CLIENT_ID": f"ingest-{uuid.uuid4().hex[:8]}",
            "HEARTBEAT_STALE_SECONDS": "15",
        }
        return {**env, **{key: str(value) for key, value in overrides.items()}}

    return make


@pytest.fixture
def staff(django_user_model):
    """A staff user: allowed every write of the API."""
    return django_user_model.objects.create_user("operator", password="unused-in-tests", is_staff=True)


@pytest.fixture
def viewer(django_user_model):
    """A signed-in user who is not staff: allowed the reads alone."""
    return django_user_model.objects.create_user("viewer", password="unused-in-tests")


@pytest.fixture
def start_command(tmp_path):
    """Start child processes (ManagedProcess options by name); all still running are killed after the test."""
    started: list[ManagedProcess] = []
    counter = itertools.count()

    def start(args: list[str], *, name: str, cwd: Path = BACKEND_DIR, env: dict[str, str] | None = None,
              **options) -> ManagedProcess:
        process = ManagedProcess(args, log_file=tmp_path / f"{name}-{next(counter)}.log", env=env, cwd=cwd, **options)
        started.append(process.start())
        return process

    yield start
    for process in started:
        process.kill()


@pytest.fixture
def start_process(start_command):
    """Start `manage.py` commands as child processes; all are killed after the test."""

    def start(*command: str, env: dict[str, str], **options) -> ManagedProcess:
        return start_command([sys.executable, "manage.py", *command], name=command[0], env=env, **options)

    return start


@pytest.fixture
def start_ingest(platform_env, start_process):
    """Start `manage.py ingest` against a broker and wait until it has subscribed."""

    def start(broker: LocalBroker, *args: str, env: dict[str, str] | None = None, **options) -> ManagedProcess:
        process = start_process("ingest", "--flush-ms", "20", "--summary-seconds", "1", *args,
                                env=env or platform_env(broker), **options)
        process.wait_for_output(r"connected, subscribed")
        return process

    return start


@pytest.fixture
def start_gunicorn(start_command):
    """Start the production web (gunicorn, production settings, one sync worker) on the test database.

    Returns (port, process) once its worker is booting; `env` adds to or replaces its environment.
    """
    from django.core.management.utils import get_random_secret_key
    from django.db import connection

    def start(**env: str) -> tuple[int, ManagedProcess]:
        from devtools.broker import free_port

        port = free_port()
        process = start_command(
            GUNICORN_COMMAND, name="gunicorn",
            env={
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "GUNICORN_WORKERS": "1",
                "DJANGO_SETTINGS_MODULE": "config.settings_production",
                "DJANGO_SECRET_KEY": get_random_secret_key(),
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
                "DJANGO_BEHIND_TLS_PROXY": "true",
                "DJANGO_DEBUG": "false",
                "DATABASE_URL": database_url(connection.settings_dict),
                **{key: str(value) for key, value in env.items()},
            },
        )
        process.wait_for_output(r"Booting worker", timeout=30)
        return port, process

    return start


@pytest.fixture
def worker_env(mqtt_broker, platform_env) -> dict[str, str]:
    """The environment `start_worker` starts workers in; a test module may override it."""
    return platform_env(mqtt_broker)


@pytest.fixture
def start_worker(start_process, worker_env):
    """Start `manage.py process_tasks` workers (a pass a second); after the test, none may show a traceback."""
    workers: list[ManagedProcess] = []

    def start(**overrides) -> ManagedProcess:
        env = {**worker_env, **{key: str(value) for key, value in overrides.items()}}
        worker = start_process("process_tasks", "--duration=0", "--sleep=1", env=env)
        worker.wait_for_output(r"worker started")
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        assert "Traceback" not in worker.output(), worker.output()[-4000:]


@pytest.fixture
def start_fleet(tmp_path):
    """Start `devtools.fleet` publishers (devices named by a fresh prefix); all are killed after the test."""
    fleets: list[Fleet] = []

    def start(broker: LocalBroker, *, devices: int, **options) -> Fleet:
        prefix = f"f{uuid.uuid4().hex[:6]}"
        fleets.append(Fleet.start(broker.port, prefix=prefix, devices=devices, log_dir=tmp_path, **options))
        return fleets[-1]

    yield start
    for fleet in fleets:
        fleet.process.kill()


@pytest.fixture
def report_figures(capsys):
    """Print a line of a test's figures (`[fault figures] what: key=value ...`), even while pytest captures output."""

    def report(what: str, **figures) -> None:
        text = " ".join(f"{key}={value:.1f}" if isinstance(value, float) else f"{key}={value}"
                        for key, value in figures.items())
        with capsys.disabled():
            print(f"\n[fault figures] {what}: {text}", flush=True)

    return report


class Publisher:
    """A QoS 1 publisher that waits for the broker's acknowledgement of every message."""

    def __init__(self, broker: LocalBroker, client_id: str | None = None):
        self.client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or f"test-publisher-{uuid.uuid4().hex[:8]}",
        )
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def publish(self, topic: str, payload, qos: int = 1) -> None:
        body = payload if isinstance(payload, bytes | str) else json.dumps(payload)
        info = self.client.publish(topic, body, qos=qos)
        info.wait_for_publish(timeout=10)
        assert info.is_published(), f"broker did not acknowledge a message on {topic}"

    def reading(self, device_id: str, **fields) -> None:
        self.publish(f"devices/{device_id}/telemetry", {"deviceId": device_id, **fields})

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def publisher_for():
    """Make publishers for a broker; all are closed after the test."""
    publishers: list[Publisher] = []

    def make(broker: LocalBroker) -> Publisher:
        publishers.append(Publisher(broker))
        return publishers[-1]

    yield make
    for publisher in publishers:
        publisher.close()
