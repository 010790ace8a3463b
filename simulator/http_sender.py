"""Readings over HTTP instead of MQTT: POST {URL}/api/devices/{id}/telemetry/ with X-API-Key.

HttpSender offers the calls Simulation makes on a ClientPool, so the schedule, drops
and summaries are the same for both transports. Only the standard library: the
simulator depends on paho-mqtt alone.
"""
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from mqtt_pool import SENT

log = logging.getLogger("simulator")

MAX_RETRY_AFTER_SECONDS = 60.0
REQUEST_TIMEOUT_SECONDS = 10.0


class HttpRefused(Exception):
    """The server refused the API key (401, 403) or the request itself (another 4xx): no retry helps."""


class HttpSender:
    """Sends each device's readings in requests of `batch` readings: one object, or a JSON array when batch > 1."""

    def __init__(self, base_url: str, api_key: str, *, batch: int = 1,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.batch = batch
        self.sleep = sleep
        self.links = [self]  # one sender: Simulation treats it as a shared connection
        self.connected = 1
        self.reconnects = 0
        self.acked = 0
        self.throttled = 0
        self._waiting: dict[str, list[dict]] = {}

    @property
    def address(self) -> str:
        return self.base_url

    @property
    def pending(self) -> int:
        """Readings not yet accepted by the server."""
        return sum(len(readings) for readings in self._waiting.values())

    def connect(self, *, retries: int, should_stop: Callable[[], bool]) -> bool:
        """Nothing to open: requests are made as readings are due."""
        return not should_stop()

    def publish(self, index: int, topic: str, payload: str, qos: int) -> str:
        """Queue one reading of the device of `topic`; send its batch once full."""
        device_id = topic.split("/")[1]
        readings = self._waiting.setdefault(device_id, [])
        readings.append(json.loads(payload))
        if len(readings) >= self.batch:
            self._send(device_id)
        return SENT

    def poll(self, timeout: float) -> None:
        self.sleep(timeout)

    def close(self, *, drain_seconds: float, should_hurry: Callable[[], bool] = lambda: False) -> None:
        """Send the partial batches left."""
        for device_id in list(self._waiting):
            if self._waiting[device_id] and not should_hurry():
                self._send(device_id)

    def _send(self, device_id: str) -> None:
        readings = self._waiting[device_id]
        body = json.dumps(readings if self.batch > 1 else readings[0]).encode()
        request = urllib.request.Request(
            f"{self.base_url}/api/devices/{device_id}/telemetry/", data=body, method="POST",
            headers={"Content-Type": "application/json", "X-API-Key": self.api_key},
        )
        while True:
            try:
                with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS):
                    break
            except urllib.error.HTTPError as error:
                if error.code == 429:
                    wait = retry_after(error.headers.get("Retry-After"))
                    self.throttled += 1
                    log.warning("Throttled by the server (429); retrying in %.1f s", wait)
                    self.sleep(wait)
                    continue
                detail = error.read(500).decode(errors="replace")
                if error.code in (401, 403):
                    raise HttpRefused(f"the server refused the API key for {device_id} ({error.code}): {detail}")
                if 400 <= error.code < 500:
                    raise HttpRefused(f"the server refused a reading of {device_id} ({error.code}): {detail}")
                log.warning("Server error %d for %s; retrying in 1 s", error.code, device_id)
                self.sleep(1.0)
            except (urllib.error.URLError, OSError) as error:
                log.warning("Cannot reach %s (%s); retrying in 1 s", self.base_url, error)
                self.sleep(1.0)
        self.acked += len(readings)
        readings.clear()


def retry_after(header: str | None) -> float:
    """Seconds a Retry-After header asks for (seconds form), 1 s when absent or unreadable, at most 60."""
    try:
        return min(max(float(header), 0.0), MAX_RETRY_AFTER_SECONDS)
    except (TypeError, ValueError):
        return 1.0
