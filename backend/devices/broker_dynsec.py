"""Device accounts at the broker, kept by Mosquitto's dynamic security plugin (docs/security.md).

The registry calls `upsert(device_id, key)` after registering a device or rotating
its key and `remove(device_id)` after decommissioning it. DynamicSecurityAccounts
sends the plugin's commands to `$CONTROL/dynamic-security/v1` as the broker's admin
account and waits for the plugin's answer on the response topic: every failed
command raises BrokerAccountsError.

Each device gets a role of its own, `device:<id>`, allowing a publish to
`devices/<id>/#` only, and its account is bound to its id as client id (the plugin's
`clientid`): on the ingest's listener, which keeps the client ids clients send, device
credentials cannot present the ingest's id. The plugin of Mosquitto 2.0 has no `%u` in its ACLs, so one
shared role could not tell devices apart; its roles and clients are cheap entries
of one JSON file.
"""
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = f"{CONTROL_TOPIC}/response"
NOT_FOUND_ERRORS = ("Client not found", "Role not found")
# The device listener makes every client id its user name, so two admin connections
# at once (two web workers) take each other's session over: the one taken over
# gives up and its whole operation, idempotent, is tried again.
ATTEMPTS = 8


class BrokerAccountsError(RuntimeError):
    """The broker refused the admin account or a command, or did not answer in time."""


class ConnectionTakenOver(BrokerAccountsError):
    """The admin connection was closed before the plugin answered (another admin connection took its id)."""


def device_role(device_id: str) -> str:
    """The name of the role that lets `device_id` publish to its own topics."""
    return f"device:{device_id}"


def device_acls(device_id: str) -> list[dict]:
    """The ACLs of a device's role: publishing under devices/<id>/, nothing else."""
    return [{"acltype": "publishClientSend", "topic": f"devices/{device_id}/#", "allow": True}]


@dataclass(frozen=True)
class AdminConnection:
    """How to reach the broker as its dynamic security admin."""

    host: str
    port: int
    username: str
    password: str
    timeout: float = 10.0


class DynamicSecurityAccounts:
    """Creates, re-keys and deletes device accounts through the broker's dynamic security plugin."""

    def __init__(self, connection: AdminConnection | None = None):
        self.connection = connection or admin_connection_from_settings()

    def upsert(self, device_id: str, key: str) -> None:
        """Create the device's account with `key` as its password, or change its password and drop its sessions."""
        self._retrying(self._upsert, device_id, key)

    def remove(self, device_id: str) -> None:
        """Delete the device's account (the plugin disconnects its sessions) and its role; absent ones are fine."""
        self._retrying(self._remove, device_id)

    def _upsert(self, device_id: str, key: str) -> None:
        if not self._exists(device_id):
            self.run([{"command": "createRole", "rolename": device_role(device_id), "acls": device_acls(device_id)}],
                     tolerate=("Role already exists",))
            [created] = self.run([{"command": "createClient", "username": device_id, "password": key,
                                   "clientid": device_id, "roles": [{"rolename": device_role(device_id)}]}],
                                 tolerate=("Client already exists",))
            if "error" not in created:
                return
        # The plugin also disconnects the client's sessions, so the old key is of no more use at once.
        # setClientId binds an account made before device accounts were bound to their id.
        self.run([{"command": "setClientId", "username": device_id, "clientid": device_id},
                  {"command": "setClientPassword", "username": device_id, "password": key}])

    def _remove(self, device_id: str) -> None:
        self.run([{"command": "deleteClient", "username": device_id}], tolerate=NOT_FOUND_ERRORS)
        self.run([{"command": "deleteRole", "rolename": device_role(device_id)}], tolerate=NOT_FOUND_ERRORS)

    @staticmethod
    def _retrying(operation, *args) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return operation(*args)
            except ConnectionTakenOver:
                if attempt == ATTEMPTS:
                    raise
                time.sleep(random.uniform(0.02, 0.1 * attempt))  # jittered, so the contenders spread out

    def _exists(self, device_id: str) -> bool:
        [answer] = self.run([{"command": "getClient", "username": device_id}], tolerate=NOT_FOUND_ERRORS)
        return "error" not in answer

    def run(self, commands: list[dict], *, tolerate: tuple[str, ...] = ()) -> list[dict]:
        """Send commands in one message and return the plugin's answers; raise on any error not in `tolerate`."""
        answers = self._exchange(commands)
        for command, answer in zip(commands, answers):
            error = answer.get("error")
            if error and error not in tolerate:
                raise BrokerAccountsError(f"dynamic security refused {command['command']}: {error}")
        return answers

    def _exchange(self, commands: list[dict]) -> list[dict]:
        settings = self.connection
        correlation = uuid.uuid4().hex
        tagged = [{**command, "correlationData": correlation} for command in commands]
        connected, answered = threading.Event(), threading.Event()
        state: dict = {}

        def on_connect(client, userdata, flags, reason_code, properties):
            state["connack"] = reason_code
            connected.set()
            if not reason_code.is_failure:
                client.subscribe(RESPONSE_TOPIC, qos=1)

        def on_subscribe(client, userdata, mid, reason_codes, properties):
            if any(code.is_failure for code in reason_codes):
                state["subscribe"] = reason_codes
                answered.set()
                return
            if "lost" in state:
                return  # paho reconnected after a takeover: the operation is tried again from the start
            client.publish(CONTROL_TOPIC, json.dumps({"commands": tagged}), qos=1)

        def on_disconnect(client, userdata, flags, reason_code, properties):
            if connected.is_set() and not answered.is_set():
                state["lost"] = reason_code
                answered.set()

        def on_message(client, userdata, message):
            responses = json.loads(message.payload).get("responses", [])
            mine = [response for response in responses if response.get("correlationData") == correlation]
            if mine:
                state["responses"] = mine
                answered.set()

        client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                             client_id=f"dynsec-admin-{uuid.uuid4().hex[:8]}")
        client.username_pw_set(settings.username, settings.password)
        client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
        client.on_disconnect = on_disconnect
        try:
            client.connect(settings.host, settings.port)
        except OSError as error:
            raise BrokerAccountsError(f"cannot reach the broker at {settings.host}:{settings.port}: {error}") from error
        client.loop_start()
        try:
            if not connected.wait(settings.timeout):
                raise BrokerAccountsError(f"the broker at {settings.host}:{settings.port} did not answer the CONNECT")
            if state["connack"].is_failure:
                raise BrokerAccountsError(
                    f"the broker refused the admin account {settings.username!r}: {state['connack']}")
            if not answered.wait(settings.timeout):
                raise BrokerAccountsError(f"no answer from the dynamic security plugin within {settings.timeout} s "
                                          "(is it loaded on this listener?)")
            if "subscribe" in state:
                raise BrokerAccountsError(f"the admin account may not read {RESPONSE_TOPIC}: {state['subscribe']}")
            if "lost" in state:
                raise ConnectionTakenOver(f"the broker closed the admin connection before answering: {state['lost']}")
        finally:
            client.disconnect()
            client.loop_stop()
        if len(state["responses"]) != len(commands):
            raise BrokerAccountsError(f"{len(commands)} commands sent, {len(state['responses'])} answers")
        return state["responses"]


def admin_connection_from_settings() -> AdminConnection:
    """The admin connection of Django's settings (MQTT_ADMIN_*), each one required."""
    missing = [name for name in ("MQTT_ADMIN_USERNAME", "MQTT_ADMIN_PASSWORD")
               if not getattr(settings, name, "")]
    if missing:
        raise ImproperlyConfigured(f"DynamicSecurityAccounts needs {' and '.join(missing)} (docs/security.md)")
    return AdminConnection(host=settings.MQTT_ADMIN_HOST, port=settings.MQTT_ADMIN_PORT,
                           username=settings.MQTT_ADMIN_USERNAME, password=settings.MQTT_ADMIN_PASSWORD)
