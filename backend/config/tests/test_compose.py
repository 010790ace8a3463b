"""docker-compose.yml: required secrets, what it publishes, and its broker and simulator run for real.

The file is rendered by Debian's docker-compose (`make test` installs it); the broker
part is then run here with the shipped files: the accounts script, production.conf
on free ports, the ingest with the compose environment, the simulator with its
compose command.
"""
import shlex
import shutil
import subprocess
import sys

import pytest
import yaml

from devtools.broker import (
    CONTAINER_CONFIG_DIR,
    CONTAINER_DYNSEC_DIR,
    CONTAINER_LIMITS_DIR,
    CONTAINER_PASSWD_DIR,
    PRODUCTION_CONFIG,
    PRODUCTION_DEVICE_PORT,
    PRODUCTION_INGEST_PORT,
    REPO_DIR,
    ProductionBroker,
    dynsec_plugin,
)
from devtools.processes import ManagedProcess
from devtools.waiting import wait_until

COMPOSE_FILE = REPO_DIR / "docker-compose.yml"
SECRETS = ("DJANGO_SECRET_KEY", "MQTT_PASSWORD", "MQTT_ADMIN_PASSWORD", "SIMULATOR_MQTT_PASSWORD",
           "POSTGRES_PASSWORD")


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
    return {name: f"test-{name.lower()}-value" for name in SECRETS}


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
@pytest.mark.parametrize("secret", SECRETS)
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


def test_compose_publishes_the_web_and_the_device_listener_only(compose):
    ports = {name: published(service) for name, service in compose["services"].items() if service.get("ports")}
    assert ports == {
        "web": [("0.0.0.0", 8000, 8000)],
        "mosquitto": [("0.0.0.0", PRODUCTION_DEVICE_PORT, PRODUCTION_DEVICE_PORT)],
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
    assert CONTAINER_PASSWD_DIR.rstrip("/") in mounts
    # The plugin saves its file on every change: that volume must be writable, and the accounts service's too.
    dynsec_dir = CONTAINER_DYNSEC_DIR.rstrip("/")
    dynsec_mount = next(volume for volume in broker["volumes"] if volume.split(":")[1] == dynsec_dir)
    assert not dynsec_mount.endswith(":ro")
    accounts_mounts = [volume.split(":")[:2] for volume in compose["services"]["broker-accounts"]["volumes"]]
    assert [dynsec_mount.split(":")[0], dynsec_dir] in accounts_mounts
    assert f"include_dir {CONTAINER_LIMITS_DIR}" in PRODUCTION_CONFIG.read_text().splitlines()
    for name in ("ingest", "web", "worker", "migrate"):
        assert compose["services"][name]["environment"]["MQTT_PORT"] == str(PRODUCTION_INGEST_PORT)


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
                "MOSQUITTO_PASSWD_DIR": str(tmp_path / "broker" / "passwd"),
                "MOSQUITTO_DYNSEC_DIR": str(tmp_path / "broker" / "dynsec"),
                "MOSQUITTO_DYNSEC_PLUGIN": dynsec_plugin(), "PATH": "/usr/sbin:/usr/bin:/bin"}
    (tmp_path / "broker" / "passwd").mkdir(parents=True)
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
