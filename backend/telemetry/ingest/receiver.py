"""The MQTT side of the ingest: a paho client with a persistent session and manual acks."""
import logging
import queue
import sys
import threading
import time
from dataclasses import dataclass

import paho.mqtt.client as mqtt

from common.outages import OutageLog
from telemetry.link_status import is_status_topic

log = logging.getLogger("telemetry.ingest")

# Payload bytes the ingest holds (received, not yet committed or given up) before it
# stops reading from the broker. Room for one writer's two batches and an open one at
# the batch byte cap (1 MiB each; with two writers, big payloads leave fewer waiting).
# Typical readings never get near it (the broker's 10,000-message window is about
# 1.5 MB of them). Mosquitto's own max_inflight_bytes cannot be relied on for this
# (see mosquitto.conf).
DEFAULT_MAX_HELD_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class MqttSettings:
    host: str
    port: int
    username: str
    password: str
    client_id: str
    topic: str
    # The devices' status topic (telemetry.link_status), on the same session; "" for none.
    status_topic: str = ""
    keepalive: int = 30
    reconnect_min_seconds: float = 0.5
    reconnect_max_seconds: float = 5.0
    max_held_bytes: int = DEFAULT_MAX_HELD_BYTES
    tls: bool = False
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""


# Not frozen: one is made for every message, and a frozen dataclass's __init__ costs
# about seven times as much (0.95 against 0.14 µs).
@dataclass(slots=True)
class IncomingMessage:
    topic: str
    payload: bytes
    mid: int
    qos: int
    # Which connection delivered it: a packet id is only meaningful on that connection.
    connection: int
    # Receive time, epoch seconds (time.time(): a third of timezone.now()'s cost).
    received_at: float
    # MQTT's DUP flag: the broker sent it before and saw no ack (e.g. the ingest crashed).
    redelivered: bool = False

    @property
    def size(self) -> int:
        """Bytes it holds in memory, near enough: payload and topic."""
        return len(self.payload) + len(self.topic)


# Put on the queue only to wake its reader; not a message.
WAKE_UP = None


class MqttReceiver:
    """Subscribes at QoS 1 and puts every message on `messages`; acks only when told to."""

    def __init__(self, config: MqttSettings) -> None:
        self.config = config
        self.messages: queue.SimpleQueue[IncomingMessage | None] = queue.SimpleQueue()
        self.connected = False
        self.subscription_refused = False
        self.connection = 0
        self._session_present = False
        self.state_changed = threading.Event()
        self._stopping = False
        self._max_held_bytes = config.max_held_bytes
        self._held_bytes = 0
        self._room = threading.Condition()
        self._client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=config.client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        if config.username:
            self._client.username_pw_set(config.username, config.password or None)
        if config.tls:
            # Reads the files now: a missing or unreadable one fails at start (OSError, ssl.SSLError).
            self._client.tls_set(ca_certs=config.ca_file or None, certfile=config.cert_file or None,
                                 keyfile=config.key_file or None)
        self._unreachable = OutageLog(log, failed=f"cannot connect to {self.url}; retrying",
                                      recovered="the broker is reachable again")
        self._client.reconnect_delay_set(
            min_delay=config.reconnect_min_seconds, max_delay=config.reconnect_max_seconds
        )
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._client.on_connect_fail = self._on_connect_fail

    @property
    def url(self) -> str:
        """Where the receiver connects, for log lines."""
        scheme = "mqtts" if self.config.tls else "mqtt"
        return f"{scheme}://{self.config.host}:{self.config.port}"

    def start(self) -> None:
        """Connect in the background; paho retries with backoff until the broker answers."""
        log.info("connecting to %s as %r", self.url, self.config.client_id)
        self._client.connect_async(self.config.host, self.config.port, keepalive=self.config.keepalive)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect; unacked messages stay with the broker for the next session."""
        self._stopping = True
        with self._room:
            self._room.notify_all()
        self._client.disconnect()
        self._client.loop_stop()

    def release(self, messages) -> None:
        """Messages are committed or given up: their bytes no longer count against the budget."""
        with self._room:
            self._held_bytes -= sum(message.size for message in messages)
            self._room.notify_all()

    @property
    def state(self) -> str:
        """The heartbeat's state: "connected" only while subscribed with the broker's consent."""
        if not self.connected:
            return "disconnected"
        return "subscription refused" if self.subscription_refused else "connected"

    def ack(self, message: IncomingMessage) -> None:
        """Acknowledge a committed message, if the connection that delivered it is still up.

        After a reconnect the broker redelivers what was not acked; the unique
        (device, ts) key absorbs the repeat.
        """
        if message.qos > 0 and self.connected and message.connection == self.connection:
            self._client.ack(message.mid, message.qos)

    def wake_for_stop(self, stop: threading.Event) -> None:
        """Set `stop` and wake a loop waiting on `messages` (safe in a signal handler).

        On CPython before 3.13, a signal that interrupts SimpleQueue.get(timeout=...) just
        as the timeout expires can leave it waiting with no timeout: an idle ingest would
        not see `stop` until the next message. The marker ends that wait.
        """
        stop.set()
        self.messages.put(WAKE_UP)

    def _on_connect_fail(self, client, userdata) -> None:
        # paho calls this inside its `except OSError` (refused, unreachable, a TLS
        # handshake that failed): the error being handled is the reason, logged once an outage.
        error = sys.exc_info()[1] or ConnectionError("connection failed")
        self._unreachable.failure(error)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        self._unreachable.success()
        if reason_code.is_failure:
            log.error("broker refused the connection: %s", reason_code)
            return
        self.connection += 1
        self.connected = True
        self.subscription_refused = False
        self._session_present = flags.session_present
        self.state_changed.set()
        client.subscribe([(topic, 1) for topic in self.topics])

    @property
    def topics(self) -> list[str]:
        """What this receiver subscribes to, each at QoS 1."""
        return [topic for topic in (self.config.topic, self.config.status_topic) if topic]

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        refused = [(topic, code) for topic, code in zip(self.topics, reason_codes, strict=False) if code.is_failure]
        if refused:
            # Mosquitto answers 0x80 when its ACL denies the topic: the session stays up
            # but nothing on it will ever arrive, which the health endpoint must show.
            self.subscription_refused = True
            self.state_changed.set()
            log.error("the broker refused the subscription to %s (%s): nothing on it will arrive; "
                      "check the broker's ACL for this user", " and ".join(topic for topic, _ in refused),
                      refused[0][1])
            return
        log.info(
            "connected, subscribed to %s (session %s)",
            " and ".join(self.topics),
            "resumed" if self._session_present else "new",
        )

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        was_connected, self.connected = self.connected, False
        if was_connected and not self._stopping:
            self.state_changed.set()
            log.warning("disconnected from broker (%s), reconnecting", reason_code)

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = message._topic.decode("utf-8", "backslashreplace")
        if message.retain and is_status_topic(topic):
            # A retained status replayed by a (re)subscription is news of an unknown age:
            # a retained `online` of a device long gone, or an `offline` already counted.
            # What happened while the ingest was away waits in its session as live messages.
            self._client.ack(message.mid, message.qos)
            return
        incoming = IncomingMessage(
            topic=topic,
            payload=message.payload,
            mid=message.mid,
            qos=message.qos,
            connection=self.connection,
            received_at=time.time(),
            redelivered=bool(message.dup),
        )
        # Over budget, this (paho's network) thread waits: the socket is not read, TCP
        # pushes back, and the broker keeps the rest. A stuck database therefore holds
        # the ingest at the budget instead of at the broker's whole window.
        with self._room:
            while self._held_bytes >= self._max_held_bytes and not self._stopping:
                self._room.wait(0.5)
            self._held_bytes += incoming.size
        self.messages.put(incoming)
