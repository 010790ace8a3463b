"""Pytest fixtures: a real broker, real platform processes, an MQTT publisher."""
import itertools
import json
import uuid

import paho.mqtt.client as mqtt
import pytest

from devtools.broker import LocalBroker
from devtools.processes import ManagedProcess


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for another process to reach the database Django is using."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}{settings_dict.get('HOST') or 'localhost'}{port}/{settings_dict['NAME']}"


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
def start_process(tmp_path):
    """Start `manage.py` commands as child processes; all are stopped after the test."""
    started: list[ManagedProcess] = []
    counter = itertools.count()

    def start(*command: str, env: dict[str, str]) -> ManagedProcess:
        log_file = tmp_path / f"{command[0]}-{next(counter)}.log"
        process = ManagedProcess.manage(*command, log_file=log_file, env=env).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


@pytest.fixture
def start_ingest(platform_env, start_process):
    """Start `manage.py ingest` against a broker and wait until it has subscribed."""

    def start(broker: LocalBroker, *args: str, env: dict[str, str] | None = None) -> ManagedProcess:
        process = start_process("ingest", "--flush-ms", "20", "--summary-seconds", "1", *args,
                                env=env or platform_env(broker))
        process.wait_for_output(r"connected, subscribed")
        return process

    return start


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
