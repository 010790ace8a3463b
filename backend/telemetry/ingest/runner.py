"""The ingest's main loop: batch what the MQTT client receives, hand batches to the
writer process, and acknowledge each message once the writer reports its batch committed.
"""
import logging
import multiprocessing
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass

from django.db import DatabaseError, close_old_connections, connection

from health.models import Heartbeat
from health.services import heartbeat_beat
from telemetry.ingest.receiver import WAKE_UP, IncomingMessage, MqttReceiver
from telemetry.ingest.writer import writer_main

log = logging.getLogger("telemetry.ingest")

DEFAULT_BATCH_SIZE = 2000
DEFAULT_FLUSH_MS = 50
TICK_SECONDS = 0.005
HEARTBEAT_SECONDS = 5.0
# DESIGN.md: exit within 10 s of SIGTERM. The writer gets this long to confirm what it
# has; then it is stopped (a killed transaction rolls back, its batch is redelivered).
STOP_GRACE_SECONDS = 5.0
WRITER_RESTART_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class BatchPolicy:
    """A batch is written when it holds `max_messages` or its first message is `max_wait_ms` old."""

    max_messages: int = DEFAULT_BATCH_SIZE
    max_wait_ms: int = DEFAULT_FLUSH_MS


class IngestStats:
    """Running counters, and the one-line summary logged every few seconds."""

    def __init__(self, interval_seconds: float) -> None:
        self.interval = interval_seconds
        self.totals = Counter()
        self._window = Counter()
        self._window_started = time.monotonic()

    def add(self, **counts: int) -> None:
        self.totals.update(counts)
        self._window.update(counts)

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


class WriterProcess:
    """The child process that validates and stores batches (telemetry.ingest.writer)."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("spawn")
        self.stop_event = self._context.Event()
        self.process = None
        self.connection = None

    def start(self) -> None:
        parent_end, child_end = self._context.Pipe()
        self.process = self._context.Process(
            target=writer_main, args=(child_end, self.stop_event), name="ingest-writer", daemon=True
        )
        self.process.start()
        child_end.close()
        self.connection = parent_end

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.is_alive()

    def send(self, number: int, batch: list[IncomingMessage]) -> None:
        self.connection.send((number, [(m.topic, m.payload, m.received_at.timestamp()) for m in batch]))

    def replies(self, timeout: float = 0.0):
        """Answers that have arrived: (batch number, result or None)."""
        answers = []
        try:
            while self.connection.poll(timeout):
                answers.append(self.connection.recv())
                timeout = 0.0
        except (EOFError, OSError):
            pass  # the writer died; `alive` says so and the batches are sent again
        return answers

    def close(self, timeout: float = 2.0) -> None:
        """Close the pipe (the writer ends at EOF) and wait; kill it if it is still busy."""
        if self.connection is not None:
            self.connection.close()  # unlike a sentinel message, never blocks on a full pipe
        if self.alive:
            self.process.join(timeout)
        if self.alive:
            self.process.kill()
            self.process.join()


class HeartbeatThread(threading.Thread):
    """Writes the ingest's heartbeat every few seconds and at once when the broker state changes.

    It has its own thread so that a locked or absent database never stalls the main loop.
    """

    def __init__(self, receiver: MqttReceiver, stats: IngestStats) -> None:
        super().__init__(name="ingest-heartbeat", daemon=True)
        self.receiver = receiver
        self.stats = stats
        self.finished = threading.Event()
        self._failing = False

    def run(self) -> None:
        while not self.finished.is_set():
            self.receiver.state_changed.clear()
            self.beat("connected" if self.receiver.connected else "disconnected")
            self.receiver.state_changed.wait(HEARTBEAT_SECONDS)
        self.beat("stopped")
        connection.close()

    def beat(self, state: str) -> None:
        try:
            close_old_connections()
            heartbeat_beat(process=Heartbeat.Process.INGEST, state=state, details=dict(self.stats.totals))
            self._failing = False
        except DatabaseError as error:
            if not self._failing:  # once per outage; the writer logs the outage itself
                log.warning("could not write the ingest heartbeat: %s", error)
            self._failing = True
            connection.close()

    def stop(self, timeout: float) -> None:
        self.finished.set()
        self.receiver.state_changed.set()
        self.join(timeout)


class IngestRunner:
    """Drives one receiver and one writer process until `stop` is set."""

    def __init__(self, receiver: MqttReceiver, *, policy: BatchPolicy, stop: threading.Event,
                 summary_seconds: float = 5.0) -> None:
        self.receiver = receiver
        self.policy = policy
        self.stop = stop
        self.stats = IngestStats(summary_seconds)
        self.writer = WriterProcess()
        self.pending: dict[int, list[IncomingMessage]] = {}
        self._batch: list[IncomingMessage] = []
        self._batch_deadline = 0.0
        self._batch_number = 0
        self._writer_started_at = 0.0

    def run(self) -> None:
        """Receive and store until stopped; then write the open batch and disconnect."""
        heartbeat = HeartbeatThread(self.receiver, self.stats)
        self._start_writer()
        self.receiver.start()
        heartbeat.start()
        try:
            while not self.stop.is_set():
                self.step()
            self._finish()
        finally:
            self.receiver.stop()
            self.writer.close(timeout=1.0)
            heartbeat.stop(timeout=1.0)
            log.info("ingest stopped (totals: %s)", dict(self.stats.totals))

    def step(self) -> None:
        """One turn of the loop: take answers, gather messages, send a batch when it is due."""
        self._take_replies(0.0)
        self._gather(wait=TICK_SECONDS)
        if self._batch and (len(self._batch) >= self.policy.max_messages
                            or time.monotonic() >= self._batch_deadline):
            self._send_batch()
        if not self.writer.alive:
            self._restart_writer()
        self.stats.maybe_log()

    def _gather(self, wait: float = 0.0) -> None:
        """Move received messages into the open batch, waiting up to `wait` for the first."""
        messages = self.receiver.messages
        try:
            while len(self._batch) < self.policy.max_messages:
                message = messages.get(timeout=wait) if wait else messages.get_nowait()
                wait = 0.0
                if message is WAKE_UP:
                    continue
                if not self._batch:
                    self._batch_deadline = time.monotonic() + self.policy.max_wait_ms / 1000
                self._batch.append(message)
        except queue.Empty:
            pass

    def _send_batch(self) -> None:
        self._batch_number += 1
        self.pending[self._batch_number] = self._batch
        self._batch = []
        try:
            self.writer.send(self._batch_number, self.pending[self._batch_number])
        except OSError:
            pass  # the writer died; it is restarted and sent every pending batch

    def _take_replies(self, timeout: float) -> None:
        for number, result in self.writer.replies(timeout):
            batch = self.pending.pop(number, None)
            if batch is None or result is None:
                continue  # given up while stopping: not acked, the broker redelivers it
            for message in batch:
                self.receiver.ack(message)
            self.stats.add(received=len(batch), stored=result.stored,
                           duplicates=result.duplicates, rejected=result.rejected)

    def _start_writer(self) -> None:
        self._writer_started_at = time.monotonic()
        self.writer.start()

    def _restart_writer(self) -> None:
        if time.monotonic() - self._writer_started_at < WRITER_RESTART_SECONDS:
            return
        log.error("the writer process exited (code %s); restarting it and resending %d batches",
                  self.writer.process.exitcode, len(self.pending))
        self.writer.close()
        self._start_writer()
        for number, batch in self.pending.items():
            self.writer.send(number, batch)

    def _finish(self) -> None:
        """Write the open batch and take the writer's answers, within the stop budget.

        Messages still queued are left unacked: the broker redelivers them to the next
        session, so stopping never waits for a backlog to drain.
        """
        if self._batch:
            self._send_batch()
        self.writer.stop_event.set()  # only cuts short a retry loop; healthy writes complete
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while self.pending and self.writer.alive and time.monotonic() < deadline:
            self._take_replies(0.05)
        if self.pending:
            log.warning("%d batches not confirmed before exit; the broker will redeliver them", len(self.pending))
