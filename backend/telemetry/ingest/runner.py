"""The ingest's main loop: batch what the MQTT client receives, hand batches to the
writer processes (telemetry.ingest.writer), and acknowledge each message once its
writer reports the batch committed.

The loop never waits on a writer for long: it only polls for answers, sends through
queues, and keeps at most MAX_UNCONFIRMED_BATCHES with each writer, so a stop signal is
seen within a tick whatever the database is doing.

With several writers (PostgreSQL: one writer's Python runs while another's transaction
is on the server) batches may commit out of order; the acks still leave in the order
the messages came, as MQTT 3.1.1 asks of QoS 1 (section 4.6): a committed batch waits
for the batches before it.
"""
import logging
import queue
from multiprocessing.connection import wait as wait_for_pipes
import threading
import time
from dataclasses import dataclass

from telemetry.ingest.heartbeat import HeartbeatThread
from telemetry.ingest.receiver import WAKE_UP, IncomingMessage, MqttReceiver
from telemetry.ingest.stats import IngestStats
from telemetry.ingest.writer import WriterProcess, WriteResult
from telemetry.ingest_metrics import IngestMetrics

log = logging.getLogger("telemetry.ingest")

DEFAULT_BATCH_SIZE = 2000
DEFAULT_FLUSH_MS = 50
# A quarter of what the receiver may hold (receiver.DEFAULT_MAX_HELD_BYTES), so with
# large payloads one batch commits, one waits and one fills.
DEFAULT_BATCH_BYTES = 1024 * 1024
# Batches sent to each writer and not yet confirmed: one being written, one waiting.
# More would only sit in the pipe, held in memory twice, and make a stop wait longer.
MAX_UNCONFIRMED_BATCHES = 2
TICK_SECONDS = 0.005
# docs/contract.md: exit within 10 s of SIGTERM. The writer gets this long to confirm
# what it has; then it is stopped (a killed transaction rolls back, its batch is redelivered).
STOP_GRACE_SECONDS = 3.0
WRITER_RESTART_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class BatchPolicy:
    """A batch is written at `max_messages` or `max_bytes`, or when its first message is `max_wait_ms` old."""

    max_messages: int = DEFAULT_BATCH_SIZE
    max_wait_ms: int = DEFAULT_FLUSH_MS
    max_bytes: int = DEFAULT_BATCH_BYTES


class IngestRunner:
    """Drives one receiver and one writer process until `stop` is set."""

    def __init__(self, receiver: MqttReceiver, *, policy: BatchPolicy, stop: threading.Event,
                 summary_seconds: float = 5.0, metrics: IngestMetrics | None = None, writers: int = 1) -> None:
        self.receiver = receiver
        self.metrics = metrics
        self.policy = policy
        self.stop = stop
        self.stats = IngestStats(summary_seconds)
        self.writers = [WriterProcess() for _ in range(writers)]
        # Every batch sent and not yet acked, oldest first; which writer has it; the answers
        # of those committed while an older batch is still being written.
        self.pending: dict[int, list[IncomingMessage]] = {}
        self._writer_of: dict[int, WriterProcess] = {}
        self._answered: dict[int, tuple[WriteResult | None, float]] = {}
        self._sent_at: dict[int, float] = {}
        self._batch: list[IncomingMessage] = []
        self._batch_bytes = 0
        self._batch_deadline = 0.0
        self._batch_number = 0
        self._writer_started_at: dict[WriterProcess, float] = {}
        self._writer_start_failed: set[WriterProcess] = set()

    def run(self) -> None:
        """Receive and store until stopped; then write the open batch and disconnect."""
        heartbeat = HeartbeatThread(self.receiver, self.stats)
        for writer in self.writers:
            self._start_writer(writer)
        self.receiver.start()
        heartbeat.start()
        try:
            while not self.stop.is_set():
                self.step()
            self._finish(heartbeat)
        finally:
            self.receiver.stop()
            for writer in self.writers:
                writer.close(timeout=0.5)
            heartbeat.stop(timeout=0.5)
            log.info("ingest stopped (totals: %s)", dict(self.stats.totals))

    def step(self) -> None:
        """One turn of the loop: take answers, gather messages, send a batch when it is due."""
        self._take_replies(0.0)
        if self._batch_full:
            self._take_replies(TICK_SECONDS)  # nothing to gather: wait for the writer instead
        else:
            self._gather(wait=TICK_SECONDS)
        if self._batch and self._has_room and (self._batch_full or time.monotonic() >= self._batch_deadline):
            self._send_batch()
        for writer in self.writers:
            if not writer.alive:
                self._restart_writer(writer)
        self.stats.maybe_log()
        if self.metrics is not None:
            self.metrics.connection_state(self.receiver.connected)
            self.metrics.held(self.held_messages)

    @property
    def held_messages(self) -> int:
        """Messages received and not yet acknowledged: queued, in the open batch, or with the writer."""
        return self.receiver.messages.qsize() + len(self._batch) + sum(map(len, self.pending.values()))

    @property
    def _has_room(self) -> bool:
        """Whether some writer has fewer than MAX_UNCONFIRMED_BATCHES unconfirmed."""
        return len(self._writer_of) < MAX_UNCONFIRMED_BATCHES * len(self.writers)

    @property
    def _batch_full(self) -> bool:
        return len(self._batch) >= self.policy.max_messages or self._batch_bytes >= self.policy.max_bytes

    def _gather(self, wait: float = 0.0) -> None:
        """Move received messages into the open batch, waiting up to `wait` for the first."""
        messages = self.receiver.messages
        before = len(self._batch)
        try:
            while not self._batch_full:
                message = messages.get(timeout=wait) if wait else messages.get_nowait()
                wait = 0.0
                if message is WAKE_UP:
                    continue
                if not self._batch:
                    self._batch_deadline = time.monotonic() + self.policy.max_wait_ms / 1000
                self._batch.append(message)
                self._batch_bytes += message.size
        except queue.Empty:
            pass
        if self.metrics is not None and len(self._batch) > before:
            self.metrics.received(len(self._batch) - before)

    def _send_batch(self) -> None:
        self._batch_number += 1
        self.pending[self._batch_number] = self._batch
        self._sent_at[self._batch_number] = time.monotonic()
        self._batch, self._batch_bytes = [], 0
        writer = self._least_busy_writer()
        self._writer_of[self._batch_number] = writer
        if writer.alive:  # otherwise the restart sends the batches it holds
            writer.send(self._batch_number, self.pending[self._batch_number])

    def _least_busy_writer(self) -> WriterProcess:
        """The live writer with the fewest unconfirmed batches (a dead one only if all are)."""
        held = {writer: 0 for writer in self.writers}
        for writer in self._writer_of.values():
            held[writer] += 1
        return min(self.writers, key=lambda writer: (not writer.alive, held[writer]))

    def _take_replies(self, timeout: float) -> None:
        """Take the writers' answers (waiting up to `timeout` for one) and ack what may be acked."""
        if timeout:
            wait_for_pipes([writer.replies_pipe for writer in self.writers if writer.alive], timeout)
        for writer in self.writers:
            for number, result in writer.replies():
                if self._writer_of.get(number) is writer:
                    del self._writer_of[number]
                    self._answered[number] = (result, time.monotonic() - self._sent_at[number])
        # Oldest first: a batch committed early waits for those before it (the acks' order).
        while self.pending and (oldest := next(iter(self.pending))) in self._answered:
            self._finish_batch(oldest, *self._answered.pop(oldest))

    def _finish_batch(self, number: int, result: WriteResult | None, seconds: float) -> None:
        batch = self.pending.pop(number)
        del self._sent_at[number]
        self.receiver.release(batch)
        if result is None:
            return  # given up while stopping: not acked, the broker redelivers it
        for message in batch:
            self.receiver.ack(message)
        self.stats.add(received=len(batch), **result.counts())
        if self.metrics is not None:
            self.metrics.batch_written(result, messages=len(batch), seconds=seconds, reasons=result.reasons)

    def _start_writer(self, writer: WriterProcess) -> bool:
        self._writer_started_at[writer] = time.monotonic()
        try:
            writer.start()
        except OSError as error:  # e.g. out of memory or file descriptors: try again later
            if writer not in self._writer_start_failed:
                log.error("could not start a writer process (%s); retrying every %.0f s",
                          error, WRITER_RESTART_SECONDS)
            self._writer_start_failed.add(writer)
            return False
        self._writer_start_failed.discard(writer)
        return True

    def _restart_writer(self, writer: WriterProcess) -> None:
        if time.monotonic() - self._writer_started_at.get(writer, 0.0) < WRITER_RESTART_SECONDS:
            return
        held = [number for number, holder in self._writer_of.items() if holder is writer]
        if writer not in self._writer_start_failed:
            log.error("a writer process exited (code %s); restarting it and resending %d batches",
                      writer.process.exitcode if writer.process else None, len(held))
        writer.close()
        if self._start_writer(writer):
            for number in held:
                writer.send(number, self.pending[number])

    def _finish(self, heartbeat: HeartbeatThread) -> None:
        """Write the open batch if there is room and take the writer's answers, within the stop budget.

        Messages still queued are left unacked: the broker redelivers them to the next
        session, so stopping never waits for a backlog to drain.
        """
        heartbeat.finish()  # its last beat runs beside the writer's last batch
        if self._batch and self._has_room:
            self._send_batch()
        for writer in self.writers:
            writer.stop_event.set()  # only cuts short a retry loop; healthy writes complete
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while any(writer.alive for writer in self._writer_of.values()) and time.monotonic() < deadline:
            self._take_replies(0.05)
        if self.pending:
            log.warning("%d batches not confirmed before exit; the broker will redeliver them", len(self.pending))
