"""The ingest's writer process: validates batches and stores them, one transaction each.

It runs apart from the MQTT client so that paho's receive loop and the ORM do not take
turns on one GIL. The parent sends `(number, messages)`; the writer answers
`(number, result)` once the batch is committed, or `(number, None)` when it gave the
batch up because it was told to stop while the database was unavailable. It ends when
the parent closes the pipe. Only then
does the parent acknowledge (or not) the batch's messages to the broker.
"""
import logging
import os
import signal
import time
from collections.abc import Sequence
from datetime import UTC, datetime

log = logging.getLogger("telemetry.ingest")

DB_RETRY_MAX_SECONDS = 5.0
REJECTION_LOG_SECONDS = 60.0

# One message as it crosses the process boundary: topic, payload, receive time (epoch s).
WireMessage = tuple[str, bytes, float]


class BatchWriter:
    """Parses and stores batches, retrying while the database is unavailable."""

    def __init__(self, should_stop) -> None:
        self.should_stop = should_stop
        self.known_device_ids: set[str] = set()
        self._rejection_logged_at: dict[str, float] = {}

    def write(self, messages: Sequence[WireMessage]):
        """Store one batch; the result, or None when stopped before the database came back."""
        from telemetry.payload import Reading, parse_message
        from telemetry.services import RejectedInput

        readings, rejections = [], []
        for topic, payload, received_epoch in messages:
            received_at = datetime.fromtimestamp(received_epoch, tz=UTC)
            outcome = parse_message(topic, payload, received_at)
            if isinstance(outcome, Reading):
                readings.append((outcome, received_at))
            else:
                rejections.append(RejectedInput(topic, payload, outcome.reason, received_at))
                self._log_rejection(topic, outcome.reason)
        return self._store(readings, rejections)

    def _store(self, readings, rejections):
        from django.db import DatabaseError, IntegrityError, connection

        from telemetry.services import telemetry_store_batch

        delay, failing_since = 0.1, None
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
                    log.error("database write failed; the batch stays unacknowledged and is retried: %s", error)
                connection.close()
                if self.should_stop(delay):
                    log.warning("stopping with an unwritten batch of %d; the broker will redeliver it",
                                len(readings) + len(rejections))
                    return None
                delay = min(delay * 2, DB_RETRY_MAX_SECONDS)
                continue
            if failing_since is not None:
                log.info("database is back after %.1f s; batch written", time.monotonic() - failing_since)
            return result

    def _log_rejection(self, topic: str, reason: str) -> None:
        """At most one log line per reason a minute, whatever the volume."""
        now = time.monotonic()
        if now - self._rejection_logged_at.get(reason, -REJECTION_LOG_SECONDS) >= REJECTION_LOG_SECONDS:
            self._rejection_logged_at[reason] = now
            log.warning("rejected message on %s: %s", topic, reason)


def writer_main(connection, stop_event) -> None:
    """Entry point of the writer process (spawned by the ingest command)."""
    # Ctrl-C reaches the whole process group; only the parent decides when to stop,
    # so a batch is never cut off half-way by a signal.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    import django

    django.setup()
    from common.longrunning import stop_query_logging

    stop_query_logging()
    parent = os.getppid()

    def should_stop(wait_seconds: float) -> bool:
        return stop_event.wait(wait_seconds) or os.getppid() != parent

    writer = BatchWriter(should_stop)
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        number, messages = request
        try:
            connection.send((number, writer.write(messages)))
        except (BrokenPipeError, OSError):
            return  # the parent stopped waiting; the batch is redelivered if it needs to be
