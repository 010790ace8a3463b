"""Many paho-mqtt clients driven from one thread: one selector, paho's loop_* calls, reconnects.

A thread per client would cost 1,000 threads for a 1,000-device fleet; instead every
client's socket sits in one epoll selector, paho is told through its socket callbacks
when a socket needs writing, and the calling thread reads, writes and keeps each
connection alive. A client whose connection drops reconnects on its own schedule,
with jittered backoff, so a broker restart is not met by 1,000 connects at once.

paho gets at most a window of unacknowledged QoS 1/2 messages per client; the rest wait
in the link's own queue. paho walks every message it holds on each acknowledgement, so
a fleet that fell behind and left tens of thousands with paho slowed down the further it
fell behind (10,000 devices on 4 connections: 581 msg/s with 60,000 pending).
"""
import heapq
import itertools
from collections import deque
import logging
import random
import selectors
import time
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt

log = logging.getLogger("simulator")

RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 5.0
# Connections are opened at a bounded rate: a burst of hundreds of connects overflows
# the broker's listen backlog, and a dropped SYN stalls this (blocking) connect for a
# second. Pacing also keeps publishing going for the devices already connected.
CONNECTS_PER_SECOND = 2000.0
CONNECT_BURST = 20
KEEPALIVE_CHECK_SECONDS = 1.0
UNREACHABLE_LOG_SECONDS = 10.0

SENT, BUFFERED, LOST = "sent", "buffered", "lost"


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """Where and how to connect."""

    host: str = "localhost"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    keepalive: int = 60
    connect_timeout: float = 5.0
    tls: bool = False
    ca_file: str | None = None  # with tls: the CA that signed the broker's certificate (default: the system's)
    transport: str = "tcp"  # or "websockets"

    @property
    def address(self) -> str:
        """host:port, with the transport when it is not plain MQTT, for messages."""
        scheme = {("tcp", False): "", ("tcp", True): "mqtts://", ("websockets", False): "ws://",
                  ("websockets", True): "wss://"}[(self.transport, self.tls)]
        return f"{scheme}{self.host}:{self.port}"


class StartError(Exception):
    """The broker could not be used at start: unreachable after retries, or it refused us."""


class Link:
    """One MQTT connection and its reconnect schedule."""

    __slots__ = ("client", "client_id", "status_topic", "status_mid", "connected", "ever_connected", "refusal",
                 "retry_at", "backoff", "waiting", "window", "unacked", "queue")

    def __init__(self, client: mqtt.Client, client_id: str, status_topic: str | None = None, *,
                 window: int = 20) -> None:
        self.client = client
        self.window = window  # QoS 1/2 messages handed to paho at most, unacknowledged
        self.unacked: set[int] = set()  # their mids
        self.queue: deque[tuple[str, str, int]] = deque()  # (topic, payload, qos) waiting for room in the window
        self.client_id = client_id
        self.status_topic = status_topic
        self.status_mid: int | None = None  # the `online` in flight, which is not a reading
        self.connected = False
        self.ever_connected = False
        self.refusal: str | None = None
        self.retry_at = 0.0
        self.backoff = RETRY_FIRST_SECONDS
        self.waiting = False  # in the retry queue


class ClientPool:
    """Owns the clients of one simulator process and drives them from the calling thread."""

    def __init__(
        self,
        settings: BrokerSettings,
        client_ids: list[str],
        *,
        max_inflight: int = 20,
        max_buffered: int = 1000,
        clock: Callable[[], float] = time.monotonic,
        status_topics: list[str | None] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.selector = selectors.DefaultSelector()
        # A link with a status topic says `online` there (retained) at each connect and
        # leaves a will of `offline` (retained), which the broker publishes if it drops.
        status_topics = status_topics or [None] * len(client_ids)
        self.max_buffered = max_buffered
        self.links = [self._make_link(client_id, max_inflight, max_buffered, status_topic)
                      for client_id, status_topic in zip(client_ids, status_topics, strict=True)]
        self.connected = 0
        self.reconnects = 0
        self.accepted = 0  # messages kept (by paho or in a link's queue) until acknowledged
        self.acked = 0  # acknowledged by the broker (QoS 0: written to the socket)
        self.closing = False
        self._retry_queue: list[tuple[float, int, Link]] = []  # a heap by retry time
        self._sequence = itertools.count()
        self._tokens = float(CONNECT_BURST)
        self._tokens_at = clock()
        self._gate_until = 0.0  # after a failed connect, nobody tries before this
        self._gate_backoff = RETRY_FIRST_SECONDS / 2
        self._outage_started: float | None = None
        self._unreachable_logged_at = float("-inf")
        self._keepalive_at = 0.0

    # -- set-up -------------------------------------------------------------------------

    def _make_link(self, client_id: str, max_inflight: int, max_buffered: int, status_topic: str | None) -> Link:
        client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=True,
            transport=self.settings.transport,
        )
        if self.settings.tls:
            client.tls_set(ca_certs=self.settings.ca_file)
        link = Link(client, client_id, status_topic, window=max_inflight)
        client.user_data_set(link)
        if status_topic:
            client.will_set(status_topic, "offline", qos=1, retain=True)
        if self.settings.username:
            client.username_pw_set(self.settings.username, self.settings.password)
        client.max_inflight_messages_set(max_inflight)
        client.max_queued_messages_set(max_buffered)
        client.connect_timeout = self.settings.connect_timeout
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_socket_open = self._on_socket_open
        client.on_socket_close = self._on_socket_close
        client.on_socket_register_write = self._on_socket_register_write
        client.on_socket_unregister_write = self._on_socket_unregister_write
        client.connect_async(self.settings.host, self.settings.port, keepalive=self.settings.keepalive)
        return link

    def connect(self, *, retries: int, should_stop: Callable[[], bool]) -> bool:
        """Connect every client; raise StartError if the broker cannot be used.

        The first client probes the broker, retrying with backoff; once it is in, the
        others connect at a paced rate, and this waits (boundedly) until they are in;
        any that cannot connect stay on the normal reconnect schedule. Returns False
        if `should_stop` turned true first.
        """
        probe = self.links[0]
        delay = 0.5
        for attempt in range(1, retries + 2):
            error = self._connect_probe(probe, should_stop)
            if error is None:
                break
            if should_stop():
                return False
            if probe.refusal is not None:
                raise StartError(f"the MQTT broker at {self.settings.address} refused the connection: {probe.refusal}")
            if attempt > retries:
                raise StartError(
                    f"cannot reach the MQTT broker at {self.settings.address} "
                    f"after {attempt} attempt{'s' if attempt > 1 else ''}: {error}"
                )
            log.warning(
                "MQTT broker at %s not reachable (%s); retrying in %.1f s (attempt %d of %d)",
                self.settings.address, error, delay, attempt, retries + 1,
            )
            deadline = self.clock() + delay
            while self.clock() < deadline and not should_stop():
                time.sleep(0.05)
            if should_stop():
                return False
            delay = min(delay * 2, 5.0)
        now = self.clock()
        for link in self.links[1:]:
            self._queue_retry(link, now)
        deadline = now + self.settings.connect_timeout + 2 * len(self.links) / CONNECTS_PER_SECOND
        while self.connected < len(self.links) and self.clock() < deadline:
            if should_stop():
                return False
            self.poll(0.01)
        if self.connected < len(self.links):
            log.warning("%d of %d connections are up; the others keep retrying", self.connected, len(self.links))
        return True

    def _connect_probe(self, probe: Link, should_stop: Callable[[], bool]) -> str | None:
        """One connection attempt, waiting for the broker's answer: None on success, else why not."""
        try:
            probe.client.reconnect()
        except OSError as error:
            return _describe(error)
        deadline = self.clock() + self.settings.connect_timeout
        while not probe.connected and probe.refusal is None and probe.client.socket() is not None:
            if self.clock() > deadline or should_stop():
                break
            self.poll(0.05)
        if probe.connected:
            return None
        # Give up this attempt (its socket, if any, is closed by the next reconnect()).
        probe.waiting = False
        return probe.refusal or "no answer to CONNECT"

    # -- the loop ----------------------------------------------------------------------

    def poll(self, timeout: float) -> None:
        """Wait up to `timeout` for socket events, handle them, keep connections alive, reconnect."""
        for key, mask in self.selector.select(timeout):
            client = key.data.client
            if mask & selectors.EVENT_READ:
                client.loop_read()
            if mask & selectors.EVENT_WRITE and client.socket() is not None:
                client.loop_write()
        now = self.clock()
        if now >= self._keepalive_at:
            self._keepalive_at = now + KEEPALIVE_CHECK_SECONDS
            for link in self.links:
                if link.client.socket() is not None:
                    link.client.loop_misc()
        if self._retry_queue and not self.closing:
            self._reconnect_due(now)

    def publish(self, index: int, topic: str, payload: str, qos: int) -> str:
        """Hand one message to client `index`: SENT, BUFFERED (sent on reconnect) or LOST."""
        link = self.links[index]
        if qos > 0 and (link.queue or len(link.unacked) >= link.window):
            if len(link.queue) + len(link.unacked) >= self.max_buffered:
                return LOST  # the buffer is full
            link.queue.append((topic, payload, qos))
            outcome = SENT if link.connected else BUFFERED
        else:
            outcome = self._hand_to_paho(link, topic, payload, qos)
        if outcome != LOST:
            self.accepted += 1
        return outcome

    def _hand_to_paho(self, link: Link, topic: str, payload: str, qos: int) -> str:
        info = link.client.publish(topic, payload, qos=qos)
        if info.rc == mqtt.MQTT_ERR_SUCCESS or (info.rc == mqtt.MQTT_ERR_NO_CONN and qos > 0):
            # paho keeps QoS 1/2 messages while disconnected and sends them once connected.
            if qos > 0:
                link.unacked.add(info.mid)
            return SENT if info.rc == mqtt.MQTT_ERR_SUCCESS and link.connected else BUFFERED
        return LOST  # QoS 0 while disconnected, or paho's buffer is full

    @property
    def pending(self) -> int:
        """Messages handed over but not yet acknowledged by the broker."""
        return self.accepted - self.acked

    def close(self, *, drain_seconds: float, should_hurry: Callable[[], bool] = lambda: False) -> None:
        """Wait up to `drain_seconds` for outstanding acknowledgements, then disconnect cleanly."""
        deadline = self.clock() + drain_seconds
        while self.pending > 0 and self.clock() < deadline and not should_hurry():
            self.poll(0.05)
        self.closing = True
        for link in self.links:
            if link.client.socket() is not None:
                link.client.disconnect()
        deadline = self.clock() + 2.0
        while any(link.client.socket() is not None for link in self.links) and self.clock() < deadline:
            self.poll(0.05)
        self.selector.close()

    # -- reconnecting --------------------------------------------------------------------

    def _reconnect_due(self, now: float) -> None:
        if now < self._gate_until:
            return
        self._tokens = min(CONNECT_BURST, self._tokens + (now - self._tokens_at) * CONNECTS_PER_SECOND)
        self._tokens_at = now
        queue = self._retry_queue
        while queue and queue[0][0] <= now and self._tokens >= 1:
            retry_at, _, link = heapq.heappop(queue)
            if not link.waiting or link.retry_at != retry_at:
                continue  # superseded by a later schedule, or already connecting
            self._tokens -= 1
            if not self._open(link, now):
                return

    def _open(self, link: Link, now: float) -> bool:
        """Start connecting `link`; on failure schedule its retry and close the gate for a while."""
        link.waiting = False
        link.refusal = None
        try:
            link.client.reconnect()
        except OSError as error:
            self._schedule_retry(link, now)
            self._gate_until = now + self._gate_backoff
            self._gate_backoff = min(self._gate_backoff * 2, RETRY_MAX_SECONDS / 2)
            if now - self._unreachable_logged_at >= UNREACHABLE_LOG_SECONDS:
                self._unreachable_logged_at = now
                log.warning("MQTT broker at %s still unreachable (%s); retrying", self.settings.address,
                            _describe(error))
            return False
        self._gate_backoff = RETRY_FIRST_SECONDS / 2
        return True

    def _schedule_retry(self, link: Link, now: float) -> None:
        """Retry after a jittered, growing delay, so a fleet does not reconnect in lockstep."""
        self._queue_retry(link, now + link.backoff * random.uniform(0.2, 1.0))
        link.backoff = min(link.backoff * 2, RETRY_MAX_SECONDS)

    def _queue_retry(self, link: Link, when: float) -> None:
        link.retry_at = when
        link.waiting = True
        heapq.heappush(self._retry_queue, (when, next(self._sequence), link))

    # -- paho callbacks ------------------------------------------------------------------

    def _on_connect(self, client, link: Link, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            link.refusal = str(reason_code)
            log.warning("MQTT broker at %s refused %s: %s", self.settings.address, link.client_id, reason_code)
            return
        link.connected = True
        link.backoff = RETRY_FIRST_SECONDS
        if link.status_topic:
            link.status_mid = client.publish(link.status_topic, "online", qos=1, retain=True).mid
        self.connected += 1
        if link.ever_connected:
            self.reconnects += 1
        link.ever_connected = True
        if self._outage_started is not None and self.connected == len(self.links):
            took = self.clock() - self._outage_started
            self._outage_started = None
            if len(self.links) == 1:
                log.info("Reconnected to the MQTT broker at %s after %.1f s", self.settings.address, took)
            else:
                log.info("Reconnected: all %d connections to %s are back after %.1f s",
                         len(self.links), self.settings.address, took)

    def _on_disconnect(self, client, link: Link, flags, reason_code, properties) -> None:
        was_connected = link.connected
        if was_connected:
            link.connected = False
            self.connected -= 1
        if self.closing:
            return
        now = self.clock()
        self._schedule_retry(link, now)
        if was_connected and self._outage_started is None:
            self._outage_started = now
            # paho reports a connection the broker dropped as "Unspecified error".
            why = "connection closed" if reason_code.value == 128 else str(reason_code)
            log.warning("Lost the connection to the MQTT broker at %s (%s: %s); reconnecting",
                        self.settings.address, link.client_id, why)

    def _on_publish(self, client, link: Link, mid, reason_code, properties) -> None:
        if mid == link.status_mid:
            link.status_mid = None
            return
        self.acked += 1
        link.unacked.discard(mid)
        while link.queue and len(link.unacked) < link.window:
            # Never LOST: paho holds at most the window, well inside its own bound.
            self._hand_to_paho(link, *link.queue.popleft())

    def _on_socket_open(self, client, link: Link, sock) -> None:
        self.selector.register(sock, selectors.EVENT_READ, link)

    def _on_socket_close(self, client, link: Link, sock) -> None:
        try:
            self.selector.unregister(sock)
        except (KeyError, ValueError):
            pass

    def _on_socket_register_write(self, client, link: Link, sock) -> None:
        self.selector.modify(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, link)

    def _on_socket_unregister_write(self, client, link: Link, sock) -> None:
        try:
            self.selector.modify(sock, selectors.EVENT_READ, link)
        except (KeyError, ValueError):
            pass


def _describe(error: OSError) -> str:
    """A socket error as a user reads it: "Connection refused", not "[Errno 111] ..."."""
    return error.strerror or str(error) or type(error).__name__
