"""docker-compose.yml: required secrets, what it publishes, its topology, and its broker and simulator run for real.

The file is rendered by Debian's docker-compose (`make test` installs it); the broker
part is then run here with the shipped files: the accounts script, production.conf
on free ports, the ingest with the compose environment, the simulator with its
compose command, the broker's and the web's healthchecks.
"""
import shlex
import shutil
import subprocess
import sys

import pytest
import yaml

from devtools.broker import (
    CONTAINER_CERTS_DIR,
    CONTAINER_CONFIG_DIR,
    CONTAINER_DYNSEC_DIR,
    CONTAINER_LIMITS_DIR,
    PRODUCTION_CONFIG,
    PRODUCTION_DEVICE_PORT,
    PRODUCTION_INGEST_PORT,
    PRODUCTION_TLS_PORT,
    PRODUCTION_WEBSOCKETS_PORT,
    REPO_DIR,
    ProductionBroker,
    free_port,
    mosquitto_binary,
    dynsec_plugin,
)
from devtools.processes import ManagedProcess
from devtools.pytest_plugin import database_url
from devtools.waiting import wait_until

COMPOSE_FILE = REPO_DIR / "docker-compose.yml"
SECRETS = ("DJANGO_SECRET_KEY", "MQTT_PASSWORD", "MQTT_ADMIN_PASSWORD", "SIMULATOR_MQTT_PASSWORD",
           "POSTGRES_PASSWORD")
# Required too, without a default: the host files of the broker's TLS certificate and key.
TLS_FILES = {"BROKER_TLS_CERT_FILE": "/etc/telemetry/broker.crt", "BROKER_TLS_KEY_FILE": "/etc/telemetry/broker.key"}
INGESTS = {"ingest": "0", "ingest-1": "1"}
WORKERS = ("worker", "worker-1")
BACKEND_SERVICES = ("web", *INGESTS, *WORKERS)


def docker_compose(tmp_path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run docker-compose on the repository's file with exactly `env` as the variables (no .env)."""
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is missing: `make test` installs it (apt-get install docker-compose)"
    empty = tmp_path / "empty.env"
    empty.write_text("")
    return subprocess.run(
        [binary, "--env-file", str(empty), "-f", str(COMPOSE_FILE), *args],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **env},
        capture_output=True, text=True, timeout=60,
    )


@pytest.fixture
def secrets() -> dict[str, str]:
    return {**{name: f"test-{name.lower()}-value" for name in SECRETS}, **TLS_FILES}


@pytest.fixture
def compose(tmp_path, secrets) -> dict:
    """The compose file as docker-compose renders it with every secret set."""
    rendered = docker_compose(tmp_path, "config", env=secrets)
    assert rendered.returncode == 0, rendered.stderr
    return yaml.safe_load(rendered.stdout)


def test_compose_is_valid_with_the_required_secrets(tmp_path, secrets):
    checked = docker_compose(tmp_path, "config", "-q", env=secrets)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
@pytest.mark.parametrize("secret", [*SECRETS, *TLS_FILES])
def test_compose_refuses_to_render_without_each_secret(tmp_path, secrets, secret, value):
    env = {name: secret_value for name, secret_value in secrets.items() if name != secret}
    if value is not None:
        env[secret] = value
    checked = docker_compose(tmp_path, "config", "-q", env=env)
    assert checked.returncode != 0
    assert f"set {secret}" in checked.stderr


def published(service: dict) -> list[tuple[str, int, int]]:
    """(host address, host port, container port) of each port docker-compose publishes."""
    def parse(port) -> tuple[str, int, int]:
        if isinstance(port, str):  # docker-compose 1.29 leaves "host_ip:published:target" as it is
            host, published_port, target = port.rsplit(":", 2)
            return host, int(published_port), int(target.split("/")[0])
        return port.get("host_ip", "0.0.0.0"), int(port["published"]), int(port["target"])

    return [parse(port) for port in service.get("ports", [])]


def test_compose_publishes_the_web_and_the_device_listeners_only(compose):
    ports = {name: published(service) for name, service in compose["services"].items() if service.get("ports")}
    assert ports == {
        "web": [("0.0.0.0", 8000, 8000)],
        "mosquitto": [("0.0.0.0", port, port)
                      for port in (PRODUCTION_DEVICE_PORT, PRODUCTION_TLS_PORT, PRODUCTION_WEBSOCKETS_PORT)],
        # --profile monitoring: Grafana on loopback only.
        "grafana": [("127.0.0.1", 3000, 3000)],
    }


def test_the_compose_broker_runs_the_production_config_with_the_limits_of_mosquitto_conf(compose):
    broker = compose["services"]["mosquitto"]
    mounts = {target: source for source, target, *_ in (volume.split(":") for volume in broker["volumes"])}
    config_dir = CONTAINER_CONFIG_DIR.rstrip("/")
    assert broker["command"] == ["mosquitto", "-c", f"{config_dir}/{PRODUCTION_CONFIG.name}"]
    assert mounts[config_dir] == str(PRODUCTION_CONFIG.parent)
    assert mounts[f"{CONTAINER_LIMITS_DIR}/mosquitto.conf"] == str(REPO_DIR / "mosquitto.conf")
    # The certificate and key the TLS listener reads, from the files the user names.
    assert mounts[f"{CONTAINER_CERTS_DIR}server.crt"] == TLS_FILES["BROKER_TLS_CERT_FILE"]
    assert mounts[f"{CONTAINER_CERTS_DIR}server.key"] == TLS_FILES["BROKER_TLS_KEY_FILE"]
    for path in ("server.crt", "server.key"):
        assert f"{CONTAINER_CERTS_DIR}{path}" in PRODUCTION_CONFIG.read_text()
    # The plugin saves its file on every change: that volume must be writable, and the accounts service's too.
    dynsec_dir = CONTAINER_DYNSEC_DIR.rstrip("/")
    dynsec_mount = next(volume for volume in broker["volumes"] if volume.split(":")[1] == dynsec_dir)
    assert not dynsec_mount.endswith(":ro")
    accounts_mounts = [volume.split(":")[:2] for volume in compose["services"]["broker-accounts"]["volumes"]]
    assert [dynsec_mount.split(":")[0], dynsec_dir] in accounts_mounts
    assert f"include_dir {CONTAINER_LIMITS_DIR}" in PRODUCTION_CONFIG.read_text().splitlines()
    for name in (*BACKEND_SERVICES, "migrate"):
        assert compose["services"][name]["environment"]["MQTT_PORT"] == str(PRODUCTION_INGEST_PORT)


def test_compose_runs_postgres_by_default_and_points_every_backend_service_at_it(compose, secrets):
    postgres = compose["services"]["postgres"]
    assert "profiles" not in postgres
    assert postgres["environment"]["POSTGRES_PASSWORD"] == secrets["POSTGRES_PASSWORD"]
    for name in (*BACKEND_SERVICES, "migrate"):
        environment = compose["services"][name]["environment"]
        assert environment["DATABASE_URL"] == "postgres://telemetry@postgres:5432/telemetry"
        assert environment["PGPASSWORD"] == secrets["POSTGRES_PASSWORD"]


def test_compose_uses_the_database_url_the_user_sets(tmp_path, secrets):
    rendered = docker_compose(tmp_path, "config", env={**secrets, "DATABASE_URL": "sqlite:////data/db.sqlite3"})
    assert rendered.returncode == 0, rendered.stderr
    services = yaml.safe_load(rendered.stdout)["services"]
    assert {services[name]["environment"]["DATABASE_URL"] for name in (*BACKEND_SERVICES, "migrate")} == {
        "sqlite:////data/db.sqlite3"}


def test_compose_starts_each_backend_service_after_healthy_servers_and_a_finished_migrate(compose):
    services = compose["services"]
    assert services["postgres"]["healthcheck"]["test"] == ["CMD", "pg_isready", "-U", "telemetry", "-d", "telemetry"]
    assert services["mosquitto"]["healthcheck"]["test"][1] == "mosquitto_sub"
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in BACKEND_SERVICES:
        assert services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "mosquitto": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }, name


def test_compose_runs_two_ingest_members_of_one_shared_group_with_fixed_ids_and_two_workers(compose):
    services = compose["services"]
    for name, member_id in INGESTS.items():
        assert services[name]["command"] == ["python", "manage.py", "ingest", "--shared-group", "ingest"]
        assert services[name]["environment"]["INGEST_MEMBER_ID"] == member_id
    for name in WORKERS:
        assert services[name]["command"] == ["python", "manage.py", "process_tasks", "--duration=0", "--sleep=1"]
    # Within 10 s of SIGTERM each exits (docs/contract.md); compose waits longer before SIGKILL.
    for name in (*INGESTS, *WORKERS):
        assert services[name]["stop_grace_period"] == "15s"


def healthcheck(compose: dict, service: str) -> list[str]:
    """The command of a service's healthcheck (CMD form)."""
    test = compose["services"][service]["healthcheck"]["test"]
    assert test[0] == "CMD"
    return test[1:]


def test_the_compose_broker_healthcheck_passes_on_the_production_broker_and_fails_with_a_wrong_password(
    tmp_path, compose, secrets
):
    command = healthcheck(compose, "mosquitto")
    command[command.index("-p") + 1] = None
    with ProductionBroker(tmp_path / "broker", devices={"device-1": "pw"}, ingest={"telemetry-ingest": secrets["MQTT_PASSWORD"]}) as broker:
        command[command.index(None)] = str(broker.ingest_port)
        command[0] = mosquitto_binary("mosquitto_sub")
        assert subprocess.run(command, capture_output=True, timeout=30).returncode == 0
        command[command.index("-P") + 1] = "wrong"
        assert subprocess.run(command, capture_output=True, timeout=30).returncode != 0
    assert subprocess.run(command, capture_output=True, timeout=30).returncode != 0


@pytest.mark.django_db(transaction=True)
def test_the_compose_web_healthcheck_passes_on_gunicorn_and_fails_without_it(tmp_path, compose):
    from django.db import connection

    command = healthcheck(compose, "web")
    assert command[:2] == ["python", "-c"] and "'http://127.0.0.1:8000/api/health/'" in command[2]
    port = free_port()
    probe = [sys.executable, "-c", command[2].replace("127.0.0.1:8000", f"127.0.0.1:{port}")]
    assert subprocess.run(probe, capture_output=True, timeout=30).returncode != 0
    web = ManagedProcess(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"],
        log_file=tmp_path / "gunicorn.log",
        env={**compose["services"]["web"]["environment"], "DATABASE_URL": database_url(connection.settings_dict),
             "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "1"},
    ).start()
    try:
        wait_until(lambda: subprocess.run(probe, capture_output=True, timeout=30).returncode == 0, timeout=30,
                   interval=0.2, message=f"the healthcheck never passed:\n{web.output()[-3000:]}")
    finally:
        assert web.terminate() == 0


def compose_simulator_arguments(compose: dict) -> list[str]:
    """The options compose passes to simulator.py."""
    words = shlex.split(compose["services"]["simulator"]["command"][-1])
    return words[words.index("simulator.py") + 1:]


@pytest.mark.django_db(transaction=True)
def test_the_compose_accounts_ingest_and_simulator_work_on_the_production_broker(
    tmp_path, compose, platform_env, start_ingest
):
    from telemetry.models import Telemetry

    accounts_env = compose["services"]["broker-accounts"]["environment"]
    accounts = {**accounts_env,
                "MOSQUITTO_DYNSEC_DIR": str(tmp_path / "broker" / "dynsec"),
                "MOSQUITTO_DYNSEC_PLUGIN": dynsec_plugin(), "PATH": "/usr/sbin:/usr/bin:/bin"}
    (tmp_path / "broker" / "dynsec").mkdir(parents=True)
    script = REPO_DIR / "broker" / "create-accounts.sh"
    subprocess.run(["sh", str(script)], env=accounts, check=True)
    admin = (accounts_env["ADMIN_USERNAME"], accounts_env["ADMIN_PASSWORD"])
    # A device account registered in between survives the next run of the script.
    with ProductionBroker(tmp_path / "broker", admin=admin, devices={"sim-extra": "pw"}):
        pass
    subprocess.run(["sh", str(script)], env=accounts, check=True)
    assert '"username":\t"sim-extra"' in (tmp_path / "broker" / "dynsec" / "dynamic-security.json").read_text()
    # A wrong admin password fails the script instead of passing silently.
    refused = subprocess.run(["sh", str(script)], env={**accounts, "ADMIN_PASSWORD": "wrong"},
                             capture_output=True, text=True)
    assert refused.returncode != 0
    assert "dynamic security command failed" in refused.stderr

    backend = compose["services"]["ingest"]["environment"]
    with ProductionBroker(tmp_path / "broker", admin=admin) as broker:
        env = platform_env(broker, MQTT_PORT=broker.ingest_port, MQTT_USERNAME=backend["MQTT_USERNAME"],
                           MQTT_PASSWORD=backend["MQTT_PASSWORD"])
        start_ingest(broker, env=env)

        options = compose_simulator_arguments(compose)
        options[options.index("--host") + 1] = "127.0.0.1"
        simulator = ManagedProcess(
            [sys.executable, str(REPO_DIR / "simulator" / "simulator.py"), *options,
             "--port", str(broker.port), "--count", "5", "--interval", "0.05", "--drop-rate", "0"],
            log_file=tmp_path / "simulator.log", cwd=REPO_DIR,
            env={key: str(value) for key, value in compose["services"]["simulator"]["environment"].items()},
        ).start()
        assert simulator.process.wait(timeout=30) == 0, simulator.output()
        assert "published 15" in simulator.output()
        wait_until(lambda: Telemetry.objects.filter(device__device_id__startswith="sim-").count() == 15, timeout=20)
        devices = set(Telemetry.objects.filter(device__device_id__startswith="sim-").values_list("device_id", flat=True))
        assert devices == {"sim-001", "sim-002", "sim-003"}


def test_the_compose_web_sums_its_workers_metrics_in_a_tmpfs_folder_of_its_own(compose):
    services = compose["services"]
    folder = services["web"]["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    assert folder in services["web"]["tmpfs"]
    # The ingest and the worker serve their own registry, one process each.
    for name in (*INGESTS, *WORKERS):
        assert "PROMETHEUS_MULTIPROC_DIR" not in services[name]["environment"], name
