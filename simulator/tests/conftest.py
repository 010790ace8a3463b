"""Fixtures for the simulator's tests: the real simulator as a child process, and a subscriber."""
import json
import sys
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from devtools.processes import ManagedProcess
from devtools.waiting import wait_until

REPO_DIR = Path(__file__).resolve().parents[2]
SIMULATOR = REPO_DIR / "simulator" / "simulator.py"


@pytest.fixture
def run_simulator(start_command):
    """Start `simulator.py` against a broker; every run is killed after the test if still alive."""

    def run(broker, *args: str) -> ManagedProcess:
        command = [sys.executable, str(SIMULATOR), "--host", "127.0.0.1", "--port", str(broker.port), *args]
        return start_command(command, name="simulator", cwd=REPO_DIR)

    return run


@pytest.fixture
def unique_prefix():
    """A device-id prefix no other test publishes under."""
    return f"t{uuid.uuid4().hex[:8]}"


class Subscriber:
    """Records every telemetry message the broker routes to it, resubscribing after a reconnect."""

    def __init__(self, broker, *, persistent: bool = False):
        self.messages: list[tuple[float, str, dict]] = []  # (arrival, topic, payload)
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"test-subscriber-{uuid.uuid4().hex[:8]}",
            clean_session=not persistent,
        )
        self.client.reconnect_delay_set(min_delay=0.1, max_delay=0.5)
        self.client.on_connect = lambda client, *_: client.subscribe("devices/+/telemetry", qos=1)
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        assert self._subscribed.wait(10), "the test subscriber could not subscribe"

    def _on_message(self, client, userdata, message):
        with self._lock:
            self.messages.append((time.monotonic(), message.topic, json.loads(message.payload)))

    def received(self, prefix: str) -> list[tuple[float, str, dict]]:
        """Messages of devices whose id starts with `prefix`, in arrival order."""
        with self._lock:
            return [entry for entry in self.messages if entry[2]["deviceId"].startswith(prefix)]

    def payloads(self, prefix: str) -> list[dict]:
        return [payload for _, _, payload in self.received(prefix)]

    def settle(self, timeout: float = 10.0) -> None:
        """Return once everything the broker had accepted before this call has reached this subscriber.

        A marker is published through the broker after it: messages for one subscriber leave the
        broker in the order it took them in, so once the marker is here, nothing older is on its way.
        """
        marker = f"settle-{uuid.uuid4().hex[:8]}"
        self.client.publish(f"devices/{marker}/telemetry", json.dumps({"deviceId": marker}), qos=1)
        wait_until(lambda: self.received(marker), timeout=timeout, message="the settle marker never arrived")

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def subscriber_for():
    """Make subscribers on a broker; all are closed after the test."""
    subscribers: list[Subscriber] = []

    def make(broker, **options) -> Subscriber:
        subscribers.append(Subscriber(broker, **options))
        return subscribers[-1]

    yield make
    for subscriber in subscribers:
        subscriber.close()
