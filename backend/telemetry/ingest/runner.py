"""The ingest loop: collect a batch, store it in one transaction, then ack it."""
import logging
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass

from django.db import DatabaseError, IntegrityError, close_old_connections, connection

from health.models import Heartbeat
from health.services import heartbeat_beat
from telemetry.ingest.receiver import IncomingMessage, MqttReceiver
from telemetry.payload import Reading, parse_message
from telemetry.services import RejectedInput, telemetry_store_batch

log = logging.getLogger("telemetry.ingest")

HEARTBEAT_SECONDS = 5.0
IDLE_POLL_SECONDS = 0.25
REJECTION_LOG_SECONDS = 60.0
DB_RETRY_MAX_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class BatchPolicy:
    """A batch is written when it holds `max_messages` or its first message is `max_wait_ms` old."""

    max_messages: int = 500
    max_wait_ms: int = 50


class IngestStats:
    """Running counters, and the one-line summary logged every few seconds."""

    def __init__(self, interval_seconds: float) -> None:
        self.interval = interval_seconds
        self.totals = Counter()
        self._window = Counter()
        self._window_started = time.monotonic()
        self._rejection_logged_at: dict[str, float] = {}

    def add(self, **counts: int) -> None:
        self.totals.update(counts)
        self._window.update(counts)

    def note_rejection(self, topic: str, reason: str) -> None:
        """Log a rejection reason at most once a minute, whatever the volume."""
        now = time.monotonic()
        if now - self._rejection_logged_at.get(reason, -REJECTION_LOG_SECONDS) >= REJECTION_LOG_SECONDS:
            self._rejection_logged_at[reason] = now
            log.warning("rejected message on %s: %s", topic, reason)

    def maybe_log(self) -> None:
        elapsed = time.monotonic() - self._window_started
        if elapsed < self.interval:
            return
        if self._window["received"]:
            log.info(
                "received=%d stored=%d duplicates=%d rejected=%d rate=%.0f msg/s (totals: %s)",
                self._window["received"],
                self._window["stored"],
                self._window["duplicates"],
                self._window["rejected"],
                self._window["received"] / elapsed,
                ", ".join(f"{key}={value}" for key, value in sorted(self.totals.items())),
            )
        self._window.clear()
        self._window_started = time.monotonic()


class IngestRunner:
    """Drives one receiver until `stop` is set; every message is acked only after commit."""

    def __init__(
        self,
        receiver: MqttReceiver,
        *,
        policy: BatchPolicy,
        stop: threading.Event,
        summary_seconds: float = 5.0,
    ) -> None:
        self.receiver = receiver
        self.policy = policy
        self.stop = stop
        self.stats = IngestStats(summary_seconds)
        self.known_device_ids: set[str] = set()
        self._last_heartbeat = 0.0

    def run(self) -> None:
        """Receive and store until stopped, then write what has arrived and disconnect."""
        self.receiver.start()
        try:
            while not self.stop.is_set():
                batch = self._collect()
                if batch:
                    self.process(batch)
                self._heartbeat_if_due()
                self.stats.maybe_log()
            self.process(self._drain())
        finally:
            self.receiver.stop()
            self._beat("stopped")
            log.info("ingest stopped (totals: %s)", dict(self.stats.totals))

    def process(self, batch: list[IncomingMessage]) -> None:
        """Validate, store in one transaction (retrying while the database is away), then ack."""
        if not batch:
            return
        readings: list[tuple[Reading, object]] = []
        rejections: list[RejectedInput] = []
        for message in batch:
            outcome = parse_message(message.topic, message.payload, message.received_at)
            if isinstance(outcome, Reading):
                readings.append((outcome, message.received_at))
            else:
                rejections.append(RejectedInput(message.topic, message.payload, outcome.reason, message.received_at))
                self.stats.note_rejection(message.topic, outcome.reason)
        result = self._store(readings, rejections)
        if result is None:
            return  # stopped while the database was away: not acked, the broker redelivers
        for message in batch:
            self.receiver.ack(message)
        self.stats.add(
            received=len(batch), stored=result.stored, duplicates=result.duplicates, rejected=result.rejected
        )

    def _store(self, readings, rejections):
        delay = 0.1
        failing_since = None
        while True:
            try:
                result = telemetry_store_batch(
                    readings=readings, rejections=rejections, known_device_ids=self.known_device_ids
                )
            except IntegrityError as error:
                # A cached device may have been deleted (e.g. in the admin): forget the cache.
                if not self.known_device_ids:
                    raise
                log.warning("batch hit an integrity error (%s); reloading devices", error)
                self.known_device_ids.clear()
                continue
            except DatabaseError as error:
                if failing_since is None:
                    failing_since = time.monotonic()
                    log.error("database write failed, batch kept unacked and retried: %s", error)
                connection.close()
                if self.stop.wait(delay):
                    log.warning("stopping with an unwritten batch of %d; the broker will redeliver it",
                                len(readings) + len(rejections))
                    return None
                delay = min(delay * 2, DB_RETRY_MAX_SECONDS)
                continue
            if failing_since is not None:
                log.info("database is back after %.1f s; batch written", time.monotonic() - failing_since)
            return result

    def _collect(self) -> list[IncomingMessage]:
        messages = self.receiver.messages
        try:
            first = messages.get(timeout=IDLE_POLL_SECONDS)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.policy.max_wait_ms / 1000
        while len(batch) < self.policy.max_messages:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(messages.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def _drain(self) -> list[IncomingMessage]:
        batch = []
        while True:
            try:
                batch.append(self.receiver.messages.get_nowait())
            except queue.Empty:
                return batch

    def _heartbeat_if_due(self) -> None:
        changed = self.receiver.state_changed.is_set()
        if changed or time.monotonic() - self._last_heartbeat >= HEARTBEAT_SECONDS:
            self.receiver.state_changed.clear()
            self._beat("connected" if self.receiver.connected else "disconnected")

    def _beat(self, state: str) -> None:
        try:
            close_old_connections()
            heartbeat_beat(process=Heartbeat.Process.INGEST, state=state, details=dict(self.stats.totals))
            self._last_heartbeat = time.monotonic()
        except DatabaseError as error:
            log.warning("could not write the ingest heartbeat: %s", error)
            connection.close()
