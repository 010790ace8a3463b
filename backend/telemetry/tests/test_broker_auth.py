"""The broker recipe in mosquitto.conf's comments, run as written: passwords, and an ACL per device."""
import re
import subprocess
import threading
import uuid

import paho.mqtt.client as mqtt
import pytest

from devtools.broker import PROJECT_CONFIG, LocalBroker
from devtools.waiting import wait_until
from telemetry.models import RejectedMessage, Telemetry

pytestmark = pytest.mark.django_db(transaction=True)

TS = 1728481425000
INGEST_USER = "telemetry-ingest"
DEVICE_X = "device-001"
DEVICE_Y = "device-002"


def recipe() -> dict:
    """The recipe's broker directives, password-file users and ACL lines, as mosquitto.conf states them."""
    lines = PROJECT_CONFIG.read_text().splitlines()
    shown = [line[len("#   "):] for line in lines if line.startswith("#   ")]
    return {
        "directives": [line for line in shown if line.split()[0] in ("allow_anonymous", "password_file", "acl_file")],
        "users": [line.split()[-1] for line in shown if line.startswith("mosquitto_passwd")],
        "acl": [line for line in shown if line.split()[0] in ("user", "topic", "pattern")],
    }


def set_password(password_file, user: str, password: str) -> None:
    create = [] if password_file.exists() else ["-c"]
    subprocess.run(["mosquitto_passwd", *create, "-b", str(password_file), user, password], check=True)


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    """A broker running the project's config plus the recipe, and the password of every user."""
    folder = tmp_path_factory.mktemp("secured-broker")
    steps = recipe()
    assert steps["directives"] and steps["acl"] and INGEST_USER in steps["users"] and DEVICE_X in steps["users"]
    passwords = {user: uuid.uuid4().hex for user in [*steps["users"], DEVICE_Y]}
    for user, password in passwords.items():
        set_password(folder / "passwd", user, password)
    (folder / "acl").write_text("\n".join(steps["acl"]) + "\n")
    directives = "\n".join(steps["directives"]).replace("/etc/mosquitto/", f"{folder}/")
    with LocalBroker(folder / "data", extra=directives + "\n") as broker:
        yield broker, passwords


class Client:
    """An MQTT client with optional credentials that records how the broker answered."""

    def __init__(self, broker: LocalBroker, username: str | None = None, password: str | None = None):
        self.connack = None
        self.answered = threading.Event()
        self.received: list[tuple[str, bytes]] = []
        self.client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=f"{username or 'anonymous'}-{uuid.uuid4().hex[:6]}")
        if username:
            self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda client, userdata, message: self.received.append(
            (message.topic, message.payload))
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        assert self.answered.wait(10), "the broker never answered the CONNECT"

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        self.connack = reason_code
        self.answered.set()

    def publish(self, topic: str, payload: str) -> bool:
        """Publish at QoS 1; whether the broker acknowledged it."""
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout=10)
        return info.is_published()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def connect(secured):
    broker, passwords = secured
    clients: list[Client] = []

    def make(username: str | None = None, password: str | None = None) -> Client:
        if username and password is None:
            password = passwords[username]
        clients.append(Client(broker, username, password))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def ingest_with_credentials(secured, platform_env, start_ingest):
    broker, passwords = secured
    env = platform_env(broker, MQTT_USERNAME=INGEST_USER, MQTT_PASSWORD=passwords[INGEST_USER])
    return start_ingest(broker, env=env)


def reading(device_id: str, ts: int) -> str:
    return f'{{"deviceId": "{device_id}", "ts": {ts}, "temperature": 21.5}}'


def test_a_device_publishes_to_its_own_topic_and_the_ingest_with_its_credentials_stores_it(
    ingest_with_credentials, connect
):
    device = connect(DEVICE_X)
    assert device.connack == "Success"
    device.publish(f"devices/{DEVICE_X}/telemetry", reading(DEVICE_X, TS))
    wait_until(lambda: Telemetry.objects.filter(device_id=DEVICE_X, temperature=21.5).exists())


def test_a_device_cannot_publish_as_another_device(ingest_with_credentials, connect):
    device = connect(DEVICE_X)
    # MQTT 3.1.1 cannot refuse one publish: the broker acknowledges it and drops it.
    assert device.publish(f"devices/{DEVICE_Y}/telemetry", reading(DEVICE_Y, TS))
    device.publish(f"devices/{DEVICE_X}/telemetry", reading(DEVICE_X, TS + 1))

    # The broker delivers one publisher's messages in order: once the second is stored,
    # the first would have been too, had the broker let it through.
    wait_until(lambda: Telemetry.objects.filter(device_id=DEVICE_X).exists())
    assert not Telemetry.objects.filter(device_id=DEVICE_Y).exists()
    assert not RejectedMessage.objects.filter(topic=f"devices/{DEVICE_Y}/telemetry").exists()


def test_a_device_cannot_read_other_devices_telemetry(ingest_with_credentials, connect):
    eavesdropper = connect(DEVICE_Y)
    eavesdropper.client.subscribe("devices/+/telemetry", qos=1)
    device = connect(DEVICE_X)
    device.publish(f"devices/{DEVICE_X}/telemetry", reading(DEVICE_X, TS + 2))

    wait_until(lambda: Telemetry.objects.filter(device_id=DEVICE_X).exists())
    assert eavesdropper.received == []


def test_an_ingest_sharing_the_stream_with_shared_group_is_allowed_by_the_same_acl(
    secured, platform_env, start_ingest, connect
):
    broker, passwords = secured
    env = platform_env(broker, MQTT_USERNAME=INGEST_USER, MQTT_PASSWORD=passwords[INGEST_USER])
    start_ingest(broker, "--shared-group", "ingest", env=env)
    connect(DEVICE_X).publish(f"devices/{DEVICE_X}/telemetry", reading(DEVICE_X, TS + 3))
    wait_until(lambda: Telemetry.objects.filter(device_id=DEVICE_X).exists())


@pytest.mark.parametrize(
    ("username", "password"), [(None, None), (DEVICE_X, "wrong password"), ("stranger", "guess")]
)
def test_anonymous_clients_and_wrong_passwords_are_refused(connect, username, password):
    client = connect(username, password)
    assert client.connack.is_failure
    assert client.connack == "Not authorized"


def test_the_recipe_is_complete_as_written():
    steps = recipe()
    assert steps["directives"] == [
        "allow_anonymous false", "password_file /etc/mosquitto/passwd", "acl_file /etc/mosquitto/acl"
    ]
    assert steps["acl"] == [f"user {INGEST_USER}", "topic read devices/+/telemetry", "pattern write devices/%u/telemetry"]
    assert re.search(r"MQTT_USERNAME=telemetry-ingest", PROJECT_CONFIG.read_text())
