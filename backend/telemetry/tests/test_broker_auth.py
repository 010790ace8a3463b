"""The production broker (broker/production.conf, what docker compose runs): who may connect, read and publish.

Mosquitto gives a session to whoever connects with its client id, so these tests
try to take the ingest's session, read its backlog and publish as another device
with a device's credentials, against the shipped configuration on free ports. Every
listener (MQTT, TLS, WebSockets, the ingest's) shares the dynamic security plugin's
accounts: the device accounts are made through DynamicSecurityAccounts as the
registry makes them, the ingest's by broker/create-accounts.sh as compose runs it.
"""
import ssl
import subprocess
import threading
import uuid

import paho.mqtt.client as mqtt
import pytest

from devices.broker_dynsec import AdminConnection, BrokerAccountsError, DynamicSecurityAccounts
from devtools.broker import ProductionBroker, free_port, mosquitto_binary
from devtools.waiting import wait_until
from telemetry.models import RejectedMessage, Telemetry

pytestmark = pytest.mark.django_db(transaction=True)

TS = 1728481425000
INGEST_USER = "telemetry-ingest"
DEVICE_X = "device-001"
DEVICE_Y = "device-002"


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    """The production broker with two device accounts and the ingest's, and every password."""
    passwords = {user: uuid.uuid4().hex for user in (INGEST_USER, DEVICE_X, DEVICE_Y)}
    broker = ProductionBroker(
        tmp_path_factory.mktemp("production-broker"),
        devices={DEVICE_X: passwords[DEVICE_X], DEVICE_Y: passwords[DEVICE_Y]},
        ingest={INGEST_USER: passwords[INGEST_USER]},
    )
    with broker:
        yield broker, passwords


class Client:
    """An MQTT client with optional credentials that records how the broker answered."""

    def __init__(self, port: int, username: str | None = None, password: str | None = None, *,
                 client_id: str | None = None, clean_session: bool = True, transport: str = "tcp",
                 ca_file=None):
        self.connack = None
        self.answered = threading.Event()
        self.subscribed = threading.Event()
        self.granted = None
        self.received: list[tuple[str, bytes]] = []
        self.client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=client_id or f"{username or 'anonymous'}-{uuid.uuid4().hex[:6]}",
                                  clean_session=clean_session, transport=transport)
        if ca_file:
            self.client.tls_set(ca_certs=str(ca_file))
        if username:
            self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = lambda client, userdata, message: self.received.append(
            (message.topic, message.payload))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.answered.wait(10), "the broker never answered the CONNECT"

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        self.connack = reason_code
        self.answered.set()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        self.granted = reason_codes
        self.subscribed.set()

    def subscribe(self, topic: str) -> list:
        """Subscribe at QoS 1; the broker's answer (a granted QoS or a failure per topic)."""
        self.client.subscribe(topic, qos=1)
        assert self.subscribed.wait(10), "the broker never answered the SUBSCRIBE"
        return self.granted

    def publish(self, topic: str, payload: str) -> bool:
        """Publish at QoS 1; whether the broker acknowledged it."""
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout=10)
        return info.is_published()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def listener_options(broker: ProductionBroker, listener: str) -> dict:
    """How a client reaches one of the production broker's listeners."""
    return {
        "device": {"port": broker.port},
        "tls": {"port": broker.tls_port, "ca_file": broker.certificates["ca"]},
        "websockets": {"port": broker.websockets_port, "transport": "websockets"},
        "ingest": {"port": broker.ingest_port},
    }[listener]


@pytest.fixture
def connect(secured):
    """Connect to a listener (the device listener unless `listener` or `port`) as a user.

    The password is the user's unless given.
    """
    broker, passwords = secured
    clients: list[Client] = []

    def make(username: str | None = None, password: str | None = None, *, listener: str = "device",
             port: int | None = None, **options) -> Client:
        if username and password is None:
            password = passwords[username]
        reach = listener_options(broker, listener)
        if port is not None:
            reach["port"] = port
        clients.append(Client(reach.pop("port"), username, password, **reach, **options))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def ingest_env(secured, platform_env):
    """The ingest's environment: its own listener, its account, a client id of this test."""
    broker, passwords = secured
    return platform_env(broker, MQTT_PORT=broker.ingest_port, MQTT_USERNAME=INGEST_USER,
                        MQTT_PASSWORD=passwords[INGEST_USER])


@pytest.fixture
def ingest(secured, ingest_env, start_ingest):
    broker, _ = secured
    return start_ingest(broker, env=ingest_env)


def reading(device_id: str, ts: int) -> str:
    return f'{{"deviceId": "{device_id}", "ts": {ts}, "temperature": 21.5}}'


def stored(device_id: str) -> set[int]:
    return {round(ts.timestamp() * 1000) for ts in Telemetry.objects.filter(device_id=device_id).values_list("ts", flat=True)}


def test_a_device_publishes_to_its_own_topic_and_the_ingest_with_its_credentials_stores_it(ingest, connect):
    device = connect(DEVICE_X)
    assert device.connack == "Success"
    device.publish(f"devices/{DEVICE_X}/telemetry", reading(DEVICE_X, TS))
    wait_until(lambda: Telemetry.objects.filter(device_id=DEVICE_X, temperature=21.5).exists())


def test_a_device_cannot_publish_as_another_device(ingest, connect):
    device = connect(DEVICE_X)
    # MQTT 3.1.1 cannot refuse one publish: the broker acknowledges it and drops it.
    assert device.publish(f"devices/{DEVICE_Y}/telemetry", reading(DEVICE_Y, TS))
    device.publish(f"devices/{DEVICE_X}/telemetry", reading(DEVICE_X, TS + 1))

    # The broker delivers one publisher's messages in order: once the second is stored,
    # the first would have been too, had the broker let it through.
    wait_until(lambda: Telemetry.objects.filter(device_id=DEVICE_X).exists())
    assert not Telemetry.objects.filter(device_id=DEVICE_Y).exists()
    assert not RejectedMessage.objects.filter(topic=f"devices/{DEVICE_Y}/telemetry").exists()


@pytest.mark.parametrize("topic", ["devices/+/telemetry", "$share/ingest/devices/+/telemetry", "#"])
def test_a_device_cannot_read_other_devices_telemetry(ingest, connect, topic):
    eavesdropper = connect(DEVICE_Y)
    granted = eavesdropper.subscribe(topic)
    device = connect(DEVICE_X)
    device.publish(f"devices/{DEVICE_X}/telemetry", reading(DEVICE_X, TS + 2))

    # The ingest got the reading, so the broker had routed it to every subscriber.
    wait_until(lambda: Telemetry.objects.filter(device_id=DEVICE_X).exists())
    assert eavesdropper.received == [], f"subscription answered {granted}"
    assert [code.value for code in granted] == [0x80]


def test_a_device_subscribed_to_the_ingests_shared_group_takes_no_turn_of_its_stream(
    secured, ingest_env, start_ingest, connect
):
    broker, _ = secured
    # A group of this test's own: the persistent session of a member stopped by an
    # earlier test would stay in a shared group and take its turns.
    group = f"ingest-{uuid.uuid4().hex[:6]}"
    start_ingest(broker, "--shared-group", group, env=ingest_env)
    member = connect(DEVICE_Y)
    assert [code.value for code in member.subscribe(f"$share/{group}/devices/+/telemetry")] == [0x80]
    device = connect(DEVICE_X)
    sent = {TS + 1000 + n for n in range(40)}
    for ts in sorted(sent):
        assert device.publish(f"devices/{DEVICE_X}/telemetry", reading(DEVICE_X, ts))
    # Had the broker let it join, every other reading would have gone to it and been dropped.
    wait_until(lambda: sent <= stored(DEVICE_X))
    assert member.received == []


def test_a_device_presenting_the_ingests_client_id_does_not_take_its_session(
    secured, ingest, ingest_env, connect
):
    broker, _ = secured
    impostor = connect(DEVICE_X, client_id=ingest_env["MQTT_CLIENT_ID"])
    assert impostor.connack == "Success"  # as itself: its client id is its user name
    impostor.publish(f"devices/{DEVICE_X}/telemetry", reading(DEVICE_X, TS + 3))

    # The ingest was never disconnected and stores what arrives after the impostor came.
    wait_until(lambda: TS + 3 in stored(DEVICE_X))
    assert "disconnected" not in ingest.output()
    log = broker.log_file.read_text()
    assert f"as {DEVICE_X} " in log
    assert f"Client {ingest_env['MQTT_CLIENT_ID']} already connected" not in log


def test_a_device_presenting_the_ingests_client_id_can_neither_discard_nor_read_its_backlog(
    secured, ingest, ingest_env, start_ingest, connect
):
    broker, _ = secured
    assert ingest.terminate() == 0
    device = connect(DEVICE_X)
    backlog = {TS + 100 + n for n in range(20)}
    for ts in sorted(backlog):
        assert device.publish(f"devices/{DEVICE_X}/telemetry", reading(DEVICE_X, ts))
    device.close()

    # A clean session under the ingest's id would discard its queue; a resumed one would read it.
    connect(DEVICE_X, client_id=ingest_env["MQTT_CLIENT_ID"], clean_session=True).close()
    reader = connect(DEVICE_X, client_id=ingest_env["MQTT_CLIENT_ID"], clean_session=False)
    reader.subscribe("devices/+/telemetry")

    restarted = start_ingest(broker, env=ingest_env)
    assert "session resumed" in restarted.output()
    wait_until(lambda: backlog <= stored(DEVICE_X))
    assert reader.received == []


def test_device_credentials_cannot_log_in_on_the_ingests_listener(secured, connect):
    broker, _ = secured
    client = connect(DEVICE_X, port=broker.ingest_port, client_id=f"{INGEST_USER}-0")
    assert client.connack == "Not authorized"


def test_the_ingests_account_may_publish_nothing(ingest, connect):
    # Its account is the plugin's too, so it logs in on the device listener, as itself only.
    intruder = connect(INGEST_USER)
    assert intruder.connack == "Success"
    assert intruder.publish(f"devices/{DEVICE_Y}/telemetry", reading(DEVICE_Y, TS + 7))
    connect(DEVICE_X).publish(f"devices/{DEVICE_X}/telemetry", reading(DEVICE_X, TS + 7))
    wait_until(lambda: TS + 7 in stored(DEVICE_X))
    assert TS + 7 not in stored(DEVICE_Y)


def test_an_ingest_sharing_the_stream_with_shared_group_is_allowed_by_the_ingests_acl(
    secured, ingest_env, start_ingest, connect
):
    broker, _ = secured
    start_ingest(broker, "--shared-group", "ingest", env=ingest_env)
    connect(DEVICE_X).publish(f"devices/{DEVICE_X}/telemetry", reading(DEVICE_X, TS + 4))
    wait_until(lambda: TS + 4 in stored(DEVICE_X))


@pytest.mark.parametrize("listener", ["device", "tls", "websockets", "ingest"])
@pytest.mark.parametrize(
    ("username", "password"), [(None, None), (DEVICE_X, "wrong password"), (INGEST_USER, "wrong"), ("stranger", "guess")]
)
def test_anonymous_clients_and_wrong_passwords_are_refused_on_every_listener(
    connect, listener, username, password
):
    client = connect(username, password, listener=listener)
    assert client.connack.is_failure
    assert client.connack == "Not authorized"


def test_the_limits_of_mosquitto_conf_apply_to_the_production_broker(secured, connect):
    broker, _ = secured
    disconnected = threading.Event()
    device = connect(DEVICE_X)
    device.client.on_disconnect = lambda *args: disconnected.set()
    # Over mosquitto.conf's max_packet_size (Mosquitto's own default has no bound).
    device.client.publish(f"devices/{DEVICE_X}/telemetry", b"x" * (1024 * 1024), qos=1)
    assert disconnected.wait(10), "the production broker accepted a packet over max_packet_size"
    wait_until(lambda: "disconnected due to oversize packet" in broker.log_file.read_text())


def connects(port: int, username: str, password: str) -> bool:
    client = Client(port, username, password, client_id=username)
    client.close()
    return client.connack == "Success"


def test_a_registered_device_is_refused_with_its_old_key_after_a_rotation_and_its_session_is_dropped(
    secured, ingest, connect
):
    broker, _ = secured
    accounts = broker.accounts()
    device_id, old_key, new_key = f"rotated-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex, uuid.uuid4().hex
    accounts.upsert(device_id, old_key)
    device = connect(device_id, old_key)
    assert device.connack == "Success"
    dropped = threading.Event()
    device.client.on_disconnect = lambda *args: dropped.set()
    device.client.reconnect_delay_set(60, 60)  # no reconnect with the old key during the test

    accounts.upsert(device_id, new_key)
    assert dropped.wait(10), "the broker kept the session of the old key open"
    assert not connects(broker.port, device_id, old_key)
    renewed = connect(device_id, new_key)
    assert renewed.publish(f"devices/{device_id}/telemetry", reading(device_id, TS + 5))
    wait_until(lambda: TS + 5 in stored(device_id))


def test_a_removed_device_is_refused_and_disconnected(secured, connect):
    broker, _ = secured
    accounts = broker.accounts()
    device_id, key = f"removed-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    accounts.upsert(device_id, key)
    device = connect(device_id, key)
    assert device.connack == "Success"
    dropped = threading.Event()
    device.client.on_disconnect = lambda *args: dropped.set()
    device.client.reconnect_delay_set(60, 60)

    accounts.remove(device_id)
    assert dropped.wait(10), "the broker kept the removed device's session open"
    assert not connects(broker.port, device_id, key)
    accounts.remove(device_id)  # removing it again is no error


def test_a_registered_device_publishes_only_under_its_own_id(secured, ingest, connect):
    broker, _ = secured
    device_id, key = f"new-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    broker.accounts().upsert(device_id, key)
    device = connect(device_id, key)
    assert device.publish(f"devices/{DEVICE_Y}/telemetry", reading(DEVICE_Y, TS + 6))
    assert device.publish(f"devices/{device_id}/telemetry", reading(device_id, TS + 6))
    wait_until(lambda: TS + 6 in stored(device_id))
    assert TS + 6 not in stored(DEVICE_Y)


def test_registrations_from_several_processes_at_once_all_take_effect(secured):
    broker, _ = secured
    # On the device listener every admin connection gets the client id "dynsec-admin",
    # so simultaneous ones take each other over; each operation must still succeed once.
    keys = {f"busy-{n}-{uuid.uuid4().hex[:4]}": uuid.uuid4().hex for n in range(24)}
    errors: list[Exception] = []

    def register(device_ids: list[str]) -> None:
        accounts = broker.accounts()
        for device_id in device_ids:
            try:
                accounts.upsert(device_id, keys[device_id])
            except BrokerAccountsError as error:
                errors.append(error)

    ids = sorted(keys)
    workers = [threading.Thread(target=register, args=(ids[n::6],)) for n in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert errors == []
    assert all(connects(broker.port, device_id, key) for device_id, key in keys.items())
    assert "already connected" in broker.log_file.read_text()  # the takeovers did happen


@pytest.mark.parametrize("wrong", ["password", "username", "port"])
def test_a_command_with_a_wrong_admin_account_or_no_plugin_raises(secured, wrong):
    broker, _ = secured
    username, password = broker.admin
    connection = {
        "password": AdminConnection("127.0.0.1", broker.port, username, "wrong"),
        "username": AdminConnection("127.0.0.1", broker.port, DEVICE_X, "wrong"),
        "port": AdminConnection("127.0.0.1", free_port(), username, password, timeout=2),
    }[wrong]
    with pytest.raises(BrokerAccountsError):
        DynamicSecurityAccounts(connection).upsert(f"never-{wrong}", "key")
    assert not connects(broker.port, f"never-{wrong}", "key")


def test_a_command_the_plugin_refuses_raises_with_its_reason(secured):
    broker, _ = secured
    with pytest.raises(BrokerAccountsError, match="setClientPassword: .*password"):
        broker.accounts().run([{"command": "setClientPassword", "username": DEVICE_X, "password": ""}])


def test_a_device_added_with_mosquitto_ctrl_can_connect_at_once(secured):
    broker, _ = secured
    username, password = broker.admin
    ctrl = [mosquitto_binary("mosquitto_ctrl"), "-h", "127.0.0.1", "-p", str(broker.port), "-u", username,
            "-P", password, "dynsec"]
    for command in (["createRole", "device:by-hand"],
                    ["addRoleACL", "device:by-hand", "publishClientSend", "devices/by-hand/#", "allow"],
                    ["createClient", "by-hand", "-p", "hand key"],
                    ["addClientRole", "by-hand", "device:by-hand"]):
        done = subprocess.run([*ctrl, *command], capture_output=True, text=True, check=True)
        assert "Error" not in done.stdout + done.stderr
    assert connects(broker.port, "by-hand", "hand key")


@pytest.mark.parametrize("listener", ["tls", "websockets"])
def test_a_registered_device_publishes_over_tls_and_websockets_with_its_key_and_the_ingest_stores_it(
    secured, ingest, connect, listener
):
    broker, _ = secured
    device_id, key = f"{listener}-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    broker.accounts().upsert(device_id, key)
    assert connect(device_id, "not its key", listener=listener).connack == "Not authorized"
    device = connect(device_id, key, listener=listener)
    assert device.connack == "Success"
    sent = {TS + 10 + n for n in range(5)}
    for ts in sorted(sent):
        assert device.publish(f"devices/{device_id}/telemetry", reading(device_id, ts))
    # Its own topics only, as on 1883.
    assert device.publish(f"devices/{DEVICE_Y}/telemetry", reading(DEVICE_Y, TS + 10))
    assert device.publish(f"devices/{device_id}/telemetry", reading(device_id, TS + 20))
    wait_until(lambda: sent | {TS + 20} <= stored(device_id))
    assert TS + 10 not in stored(DEVICE_Y)
    # Its client id is its user name here too, whatever it sent.
    assert f"as {device_id} (" in broker.log_file.read_text()


def test_a_client_that_does_not_trust_the_brokers_ca_is_not_connected_over_tls(secured):
    broker, _ = secured
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2)
    client.tls_set()  # the system's CAs, which never signed the test certificate
    with pytest.raises(ssl.SSLCertVerificationError):
        client.connect("127.0.0.1", broker.tls_port)
