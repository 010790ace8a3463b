"""`make run-postgres` for real: scripts/run-postgres on a private cluster and free ports.

The whole topology runs under supervisord: readings published through its broker are
stored once each and served by its gunicorn; an ingest member and a worker killed with
SIGKILL are restarted, the member under its client id; Ctrl-C stops every process,
the database server too, each program exiting 0 within its 10 s. Started again, it finds
its cluster, its readings and its secret key where it left them.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import psutil
import psycopg
import pytest
import requests

from devtools.broker import REPO_DIR, free_port
from devtools.processes import ManagedProcess
from devtools.waiting import wait_until

SCRIPT = REPO_DIR / "scripts" / "run-postgres"
SUPERVISOR_CONFIG = REPO_DIR / "deploy" / "supervisord.conf"
PROGRAMS = ("broker", "web", "ingest-0", "ingest-1", "worker-0", "worker-1", "simulator")
DEVICES = ("topology-1", "topology-2", "topology-3")
READINGS_PER_DEVICE = 100

pytestmark = [
    pytest.mark.skipif(shutil.which("pg_createcluster") is None,
                       reason="Debian's PostgreSQL is not installed (make postgres installs it)"),
    pytest.mark.skipif(os.geteuid() != 0, reason="pg_createcluster needs root"),
]


class Topology:
    """scripts/run-postgres in its own process group, as a terminal runs it, and its supervisord."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.mqtt_port, self.web_port = free_port(), free_port()
        env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
        self.env = {**env, "RUN_DATA_DIR": str(data_dir), "MQTT_PORT": str(self.mqtt_port),
                    "WEB_PORT": str(self.web_port), "GUNICORN_WORKERS": "2", "SIMULATOR_DEVICES": "2",
                    "MQTT_CLIENT_ID": "telemetry-ingest"}
        self.script = ManagedProcess([str(SCRIPT)], log_file=data_dir / "run-postgres.log", env=self.env, cwd=REPO_DIR)
        # ManagedProcess starts from os.environ: the script must make its own cluster even
        # when the suite itself runs on PostgreSQL (make test-postgres sets DATABASE_URL).
        self.script.env.pop("DATABASE_URL", None)
        self.cluster: tuple[str, str] | None = None

    def start(self) -> "Topology":
        self.script._offset = self.script.log_file.stat().st_size if self.script.log_file.exists() else 0
        with open(self.script.log_file, "ab") as log:
            self.script.process = subprocess.Popen([str(SCRIPT)], cwd=REPO_DIR, env=self.script.env, stdout=log,
                                                   stderr=subprocess.STDOUT, start_new_session=True)
        found = self.script.wait_for_output(r"PostgreSQL \S+ on 127\.0\.0\.1:(\d+) \(cluster ([^/]+)/(\S+),", 60)
        self.database_url = f"postgres://postgres@127.0.0.1:{found[1]}/telemetry"
        self.cluster = (found[2], found[3])
        return self

    def status(self) -> dict[str, tuple[str, int | None]]:
        """Each program's state and pid, from supervisorctl."""
        shown = subprocess.run(["supervisorctl", "-c", str(SUPERVISOR_CONFIG), "status"], env=self.env,
                               capture_output=True, text=True, timeout=20).stdout
        programs = {}
        for line in shown.splitlines():
            match = re.match(r"(?:\S+:)?(\S+)\s+(\S+)\s*(?:pid (\d+))?", line)
            if match:
                programs[match[1]] = (match[2], int(match[3]) if match[3] else None)
        return programs

    def all_running(self) -> dict[str, int] | None:
        programs = self.status()
        if set(programs) == set(PROGRAMS) and all(state == "RUNNING" for state, _ in programs.values()):
            return {name: pid for name, (_, pid) in programs.items()}
        return None

    def log(self, program: str) -> str:
        path = self.data_dir / "logs" / f"{program}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def processes(self) -> set[psutil.Process]:
        """The script, everything below it, and the database server's processes."""
        found = set()
        try:
            root = psutil.Process(self.script.process.pid)
            found |= {root, *root.children(recursive=True)}
        except psutil.NoSuchProcess:
            pass
        postmaster = self.data_dir / "postgres" / "postmaster.pid"
        if postmaster.exists():
            server = psutil.Process(int(postmaster.read_text().split()[0]))
            found |= {server, *server.children(recursive=True)}
        return found

    def interrupt(self) -> None:
        """Ctrl-C: SIGINT to the script's process group."""
        os.killpg(self.script.process.pid, signal.SIGINT)

    def stop(self) -> None:
        """Ctrl-C, and the script's exit code 0."""
        self.interrupt()
        assert self.script.process.wait(timeout=60) == 0, self.script.output()[-3000:]

    def api(self, path: str, **params) -> requests.Response:
        return requests.get(f"http://127.0.0.1:{self.web_port}{path}", params=params, timeout=20)

    def serving(self) -> bool:
        """Every program RUNNING and /api/health/ saying the ingest has subscribed (mqtt connected).

        Readings published before an ingest member's first subscription would reach no
        session at all: the test waits for the subscription, as a device fleet cannot.
        """
        if not self.all_running():
            return False
        try:
            health = self.api("/api/health/")
        except requests.ConnectionError:
            return False
        return health.status_code == 200 and health.json()["mqtt"] == "connected"

    def close(self) -> None:
        if self.script.running:
            os.killpg(self.script.process.pid, signal.SIGKILL)
            self.script.process.wait()
        if self.cluster:
            subprocess.run(["pg_dropcluster", "--stop", *self.cluster], capture_output=True, timeout=60)


@pytest.fixture
def topology():
    # Not pytest's tmp_path: the postgres user must be able to reach the cluster's folder.
    data_dir = Path(tempfile.mkdtemp(prefix="telemetry-topology-"))
    data_dir.chmod(0o755)
    running = Topology(data_dir)
    yield running
    running.close()
    shutil.rmtree(data_dir, ignore_errors=True)


def publish_readings(port: int, readings: list[dict]) -> None:
    """Publish at QoS 1, each one acknowledged by the broker."""
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id="topology-test-publisher")
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        sent = [client.publish(f"devices/{reading['deviceId']}/telemetry", json.dumps(reading), qos=1)
                for reading in readings]
        for info in sent:
            info.wait_for_publish(timeout=20)
            assert info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


def stored(database_url: str) -> dict[str, int]:
    """Readings and distinct (device, ts) pairs of the test's devices in the topology's database."""
    with psycopg.connect(database_url) as connection:
        total, distinct = connection.execute(
            "SELECT count(*), count(DISTINCT (device_id, ts)) FROM telemetry_telemetry WHERE device_id = ANY(%s)",
            [list(DEVICES)],
        ).fetchone()
    return {"total": total, "distinct": distinct}


def wait_for(condition, *, timeout: float, describe):
    """wait_until, failing with `describe()` as it is when the time is up."""
    try:
        return wait_until(condition, timeout=timeout, interval=0.2)
    except AssertionError:
        raise AssertionError(describe()) from None


def alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def connects_as(log: str, client_id: str) -> int:
    return len(re.findall(rf"connecting to mqtt://127\.0\.0\.1:\d+ as '{re.escape(client_id)}'", log))


def test_the_supervised_topology_stores_each_reading_once_through_kills_and_stops_on_ctrl_c(topology):
    topology.start()
    first = wait_for(topology.all_running, timeout=90,
                     describe=lambda: f"not every program RUNNING: {topology.status()}\n{topology.script.output()[-3000:]}")
    wait_until(lambda: all("subscribed to $share/ingest/devices/+/telemetry" in topology.log(f"ingest-{n}")
                           for n in (0, 1)), timeout=60, interval=0.2)
    assert connects_as(topology.log("ingest-0"), "telemetry-ingest-0") == 1
    assert connects_as(topology.log("ingest-1"), "telemetry-ingest-1") == 1
    started = topology.processes()

    base_ms = int(time.time() * 1000) - 600_000
    readings = [{"deviceId": device, "ts": base_ms + i * 1000, "temperature": 20 + i % 10, "humidity": 50}
                for i in range(READINGS_PER_DEVICE) for device in DEVICES]
    half = len(readings) // 2
    publish_readings(topology.mqtt_port, readings[:half])
    # Killed at once, with no chance to flush: the member's batch in flight is redelivered to it.
    os.kill(first["ingest-0"], signal.SIGKILL)
    os.kill(first["worker-0"], signal.SIGKILL)
    publish_readings(topology.mqtt_port, readings[half:])

    restarted = wait_for(
        lambda: (pids := topology.all_running()) and pids["ingest-0"] != first["ingest-0"]
        and pids["worker-0"] != first["worker-0"] and pids,
        timeout=60, describe=lambda: f"not restarted: {topology.status()}")
    assert {name: pid for name, pid in restarted.items() if name not in ("ingest-0", "worker-0")} == {
        name: pid for name, pid in first.items() if name not in ("ingest-0", "worker-0")}
    wait_until(lambda: connects_as(topology.log("ingest-0"), "telemetry-ingest-0") == 2, timeout=60, interval=0.2)
    assert "telemetry-ingest-1" not in topology.log("ingest-0")
    assert "exited: ingest-0 (terminated by SIGKILL; not expected)" in topology.script.output()

    wait_for(lambda: stored(topology.database_url)["total"] >= len(readings), timeout=60,
             describe=lambda: f"stored {stored(topology.database_url)} of {len(readings)}")
    assert stored(topology.database_url) == {"total": len(readings), "distinct": len(readings)}
    for device in DEVICES:
        answer = topology.api("/api/telemetry/", deviceId=device, limit=1000)
        assert answer.status_code == 200, answer.text
        assert len(answer.json()) == READINGS_PER_DEVICE
    health = topology.api("/api/health/").json()
    assert health["database"] == "connected" and health["worker"] == "running", health

    everything = started | topology.processes()
    topology.stop()
    output = topology.script.output()
    for program in PROGRAMS:
        assert f"stopped: {program} (exit status 0)" in output, output[-3000:]
    left = [process for process in everything if alive(process)]
    assert left == [], [process.cmdline() for process in left]
    assert not (topology.data_dir / "postgres" / "postmaster.pid").exists()


def test_the_database_and_the_secret_key_survive_a_restart_of_the_command(topology):
    topology.start()
    wait_for(topology.serving, timeout=90, describe=lambda: topology.script.output()[-3000:])
    publish_readings(topology.mqtt_port, [{"deviceId": DEVICES[0], "ts": 1_700_000_000_000 + i, "temperature": 21}
                                          for i in range(10)])
    wait_until(lambda: stored(topology.database_url)["total"] == 10, timeout=30, interval=0.2)
    secret = topology.data_dir / "django-secret-key"
    key = secret.read_text()
    assert secret.stat().st_mode & 0o777 == 0o600 and len(key.strip()) >= 50
    topology.stop()

    topology.start()
    assert "Created PostgreSQL cluster" not in topology.script.output()
    wait_for(topology.serving, timeout=90, describe=lambda: topology.script.output()[-3000:])
    assert len(topology.api("/api/telemetry/", deviceId=DEVICES[0], limit=100).json()) == 10
    assert secret.read_text() == key
    topology.stop()
