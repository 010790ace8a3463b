"""Both ends of the pipe to the ingest's writer process.

The writer runs apart from the MQTT client so that paho's receive loop and the ORM do
not take turns on one GIL. The parent sends `(number, messages)` on one pipe, from a
thread of its own: a send blocks while the writer is stuck on the database, and the
main loop must never wait on it. The writer answers `(number, result)` on a second pipe
once the batch is committed, or `(number, None)` when it gave the batch up because it
was told to stop while the database was unavailable; only then does the parent ack (or
not) the batch's messages. The writer ends when its request pipe reaches EOF.

This module is imported by the parent and, before Django is set up, by the spawned
writer, so Django's models are imported only inside `writer_main`.
"""
import logging
import multiprocessing
import os
import queue
import signal
import threading
from collections import Counter
from dataclasses import dataclass, field

log = logging.getLogger("telemetry.ingest")

# One message as it crosses the process boundary: topic, payload, receive time (epoch s),
# and MQTT's DUP flag (the broker is delivering it again).
WireMessage = tuple[str, bytes, float, bool]


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What storing one batch did; `redelivered_without_ts` readings may be stored twice.

    `reasons` counts the batch's rejections by their parse_message reason, for the
    rejected counter's labels (telemetry.ingest_metrics).
    """

    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    redelivered_without_ts: int = 0
    rejections_not_kept: int = 0
    rejection_redeliveries: int = 0
    statuses: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def __add__(self, other: "WriteResult") -> "WriteResult":
        reasons = Counter(self.reasons)
        reasons.update(other.reasons)
        totals = {name: getattr(self, name) + getattr(other, name) for name in SUMMED_FIELDS}
        return WriteResult(**totals, reasons=dict(reasons))

    def counts(self) -> dict[str, int]:
        """The counters by name, as the ingest's totals show them."""
        return {name: getattr(self, name) for name in WRITE_COUNTERS}


WRITE_COUNTERS = ("stored", "duplicates", "rejected", "redelivered_without_ts", "statuses")
SUMMED_FIELDS = (*WRITE_COUNTERS, "rejections_not_kept", "rejection_redeliveries")


class WriterProcess:
    """The parent's end: a spawned writer, a sender thread feeding it, and its answers."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("spawn")
        self.stop_event = self._context.Event()
        self.process = None
        self._replies = None
        self._outbox: queue.SimpleQueue | None = None
        self._closing: threading.Event | None = None

    def start(self) -> None:
        """Spawn the writer and the thread that sends it batches (OSError if it cannot)."""
        request_reader, request_writer = self._context.Pipe(duplex=False)
        reply_reader, reply_writer = self._context.Pipe(duplex=False)
        process = self._context.Process(target=writer_main, args=(request_reader, reply_writer, self.stop_event),
                                        name="ingest-writer", daemon=True)
        try:
            process.start()
        finally:
            request_reader.close()  # the child's ends: only the child may hold them
            reply_writer.close()
        self.process, self._replies = process, reply_reader
        self._outbox, self._closing = queue.SimpleQueue(), threading.Event()
        threading.Thread(target=_send_requests, args=(request_writer, self._outbox, self._closing),
                         name="ingest-writer-sender", daemon=True).start()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.is_alive()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def send(self, number: int, batch) -> None:
        """Queue a batch of IncomingMessage for the writer; never blocks."""
        wire = [(m.topic, m.payload, m.received_at, m.redelivered) for m in batch]
        self._outbox.put((number, wire))

    @property
    def replies_pipe(self):
        """The pipe the answers arrive on, for multiprocessing.connection.wait."""
        return self._replies

    def replies(self, timeout: float = 0.0) -> list[tuple[int, WriteResult | None]]:
        """Answers that have arrived: (batch number, result or None)."""
        answers = []
        if self._replies is None:
            return answers  # never started
        try:
            while self._replies.poll(timeout):
                answers.append(self._replies.recv())
                timeout = 0.0
        except (EOFError, OSError):
            pass  # the writer died; `alive` says so and the batches are sent again
        return answers

    def close(self, timeout: float = 2.0) -> None:
        """End the request pipe (the writer stops at EOF) and wait; kill the writer if still busy."""
        if self.process is None:
            return
        self._closing.set()
        self._outbox.put(None)
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()  # also ends a send blocked on the pipe (EPIPE)
            self.process.join()
        self._replies.close()


def _send_requests(connection, outbox: queue.SimpleQueue, closing: threading.Event) -> None:
    """The sender thread: the only user of the request pipe, so the only one to close it."""
    try:
        while (request := outbox.get()) is not None and not closing.is_set():
            connection.send(request)
    except OSError:
        pass  # the writer is gone; the runner restarts it and sends the pending batches again
    finally:
        connection.close()


def writer_main(requests, replies, stop_event) -> None:
    """Entry point of the writer process (spawned by the ingest command)."""
    # Ctrl-C reaches the whole process group; only the parent decides when to stop,
    # so a batch is never cut off half-way by a signal.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    import django

    django.setup()
    # Models can only be imported once Django is set up.
    from common.longrunning import turn_off_debug
    from telemetry.ingest.storage import BatchWriter, bind_on_server, commit_durably, database_durability

    turn_off_debug()
    commit_durably()
    bind_on_server()
    # The parent's sentinel, not os.getppid(): a parent killed while this process was
    # still starting would make getppid() return the new parent from the start.
    parent = multiprocessing.parent_process()

    def should_stop(wait_seconds: float) -> bool:
        return stop_event.wait(wait_seconds) or not parent.is_alive()

    log.info("writer started (pid %d, %s)", os.getpid(), database_durability())
    writer = BatchWriter(should_stop)
    while True:
        try:
            number, messages = requests.recv()
        except (EOFError, OSError):
            return  # the parent closed the pipe or is gone
        try:
            replies.send((number, writer.write(messages)))
        except OSError:
            return  # the parent stopped waiting; the batch is redelivered if it needs to be
