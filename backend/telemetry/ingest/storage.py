"""Storing batches in the writer process: one transaction each, retried while the
database is unavailable, split to isolate a message that can never be stored.

Imported only once Django is set up (by `writer_main`).
"""
import logging
import os
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError, connection
from django.db.backends.signals import connection_created
from psycopg.types.array import ListBinaryDumper

from common.outages import OutageLog
from telemetry.ingest.writer import WireMessage, WriteResult
from telemetry.link_status import LinkReport, is_status_topic, parse_status
from telemetry.payload import Reading, parse_message
from telemetry.services import RejectedInput, telemetry_store_batch

log = logging.getLogger("telemetry.ingest")

DB_RETRY_MAX_SECONDS = 5.0
REJECTION_LOG_SECONDS = 60.0
SQLITE_SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}

# Errors that come from the batch itself, not from the database being away: retrying
# would fail the same way forever. Every other DatabaseError (locked, refused, disk full,
# read-only, a dropped connection) is retried with the batch left unacknowledged.
POISON_DATABASE_ERRORS = (DataError, IntegrityError)


class BatchWriter:
    """Parses and stores batches, retrying while the database is unavailable."""

    def __init__(self, should_stop) -> None:
        self.should_stop = should_stop
        self.known_device_ids: set[str] = set()
        self._rejection_logged_at: dict[str, float] = {}
        # Each writer logs its own outage, so the line says which (an ingest has one per --writers).
        self._outage = OutageLog(log, failed=f"database write failed (writer pid {os.getpid()}); the batch stays "
                                             "unacknowledged and is retried",
                                 recovered=f"database is back (writer pid {os.getpid()})", level=logging.ERROR)

    def write(self, messages: Sequence[WireMessage]) -> WriteResult | None:
        """Store one batch; the result, or None when stopped before the database came back.

        A batch that fails for a reason of its own is split in halves until the message
        behind it is found; that message is kept as a rejection, the rest is stored.
        """
        try:
            return self._store(messages)
        except Exception as error:  # noqa: BLE001 - transient errors are retried inside; this is the batch's own
            if len(messages) == 1:
                return self._store_unstorable(messages[0], error)
            middle = len(messages) // 2
            first = self.write(messages[:middle])
            second = self.write(messages[middle:]) if first is not None else None
            return first + second if second is not None else None

    def _store(self, messages: Sequence[WireMessage]) -> WriteResult | None:
        readings, links, rejections, redelivered_without_ts = [], [], [], 0
        for topic, payload, received_epoch, redelivered in messages:
            received_at = datetime.fromtimestamp(received_epoch, tz=UTC)
            outcome = parse_status(topic, payload) if is_status_topic(topic) else parse_message(topic, payload, received_at)
            if isinstance(outcome, LinkReport):
                links.append((outcome, received_at))
            elif isinstance(outcome, Reading):
                readings.append((outcome, received_at))
                # Without a ts the receive time is the key: a redelivery gets a new one.
                redelivered_without_ts += redelivered and outcome.ts == received_at
            else:
                rejections.append(RejectedInput(topic, payload, outcome.reason, received_at, redelivered))
                self._log_rejection(topic, outcome.reason)
        result = self._commit(readings, rejections, links)
        if result is None:
            return None
        return WriteResult(
            statuses=result.statuses,
            stored=result.stored, duplicates=result.duplicates, rejected=result.rejected,
            redelivered_without_ts=redelivered_without_ts, rejections_not_kept=result.rejections_not_kept,
            rejection_redeliveries=result.rejection_redeliveries,
            reasons=dict(Counter(item.reason for item in rejections)),
        )

    def _commit(self, readings, rejections, links=()):
        """telemetry_store_batch, retried while the database is unavailable."""
        delay = 0.1
        while True:
            try:
                result = telemetry_store_batch(
                    readings=readings, rejections=rejections, known_device_ids=self.known_device_ids, links=links
                )
            except IntegrityError as error:
                # A cached device may have been deleted (e.g. in the admin): forget the cache.
                if not self.known_device_ids:
                    raise
                log.warning("batch hit an integrity error (%s); reloading devices", error)
                self.known_device_ids.clear()
                continue
            except POISON_DATABASE_ERRORS:
                raise
            except DatabaseError as error:
                self._outage.failure(error)
                connection.close()
                if self.should_stop(delay):
                    log.warning("stopping with an unwritten batch of %d; the broker will redeliver it",
                                len(readings) + len(rejections) + len(links))
                    return None
                delay = min(delay * 2, DB_RETRY_MAX_SECONDS)
                continue
            self._outage.success()
            return result

    def _store_unstorable(self, message: WireMessage, error: Exception) -> WriteResult | None:
        """Keep a message that fails on its own as a rejection saying why, so it can be acked."""
        topic, payload, received_epoch, redelivered = message
        first_line = (str(error).strip().splitlines() or [""])[0]
        reason = f"could not be stored: {type(error).__name__}: {first_line}"
        log.error("a message on %s %s; kept as a rejection", topic, reason)
        received_at = datetime.fromtimestamp(received_epoch, tz=UTC)
        try:
            result = self._commit([], [RejectedInput(topic, payload, reason, received_at, redelivered)])
        except Exception as rejection_error:  # noqa: BLE001 - transient errors are retried inside
            # Not even its rejection can be stored: acking it is the only way the stream goes on.
            log.error("a message on %s could not be kept as a rejection either (%s); dropped: %r",
                      topic, rejection_error, payload[:200])
            return WriteResult()
        if result is None:
            return None
        return WriteResult(rejected=result.rejected, rejections_not_kept=result.rejections_not_kept,
                           rejection_redeliveries=result.rejection_redeliveries, reasons={reason: 1})

    def _log_rejection(self, topic: str, reason: str) -> None:
        """At most one log line per reason a minute, whatever the volume."""
        now = time.monotonic()
        if now - self._rejection_logged_at.get(reason, -REJECTION_LOG_SECONDS) >= REJECTION_LOG_SECONDS:
            self._rejection_logged_at[reason] = now
            log.warning("rejected message on %s: %s", topic, reason)


def commit_durably() -> None:
    """Make every connection this process opens commit with SQLITE_SYNCHRONOUS (FULL by default).

    Only the writer needs it: its commit is what lets the ingest ack a batch, so an
    acked batch must survive a power cut. Web and worker keep the settings' NORMAL.
    """
    connection_created.connect(_set_synchronous, weak=False)


def bind_on_server() -> None:
    """On PostgreSQL, send this process's query parameters apart from the SQL, arrays in binary.

    Django's default binding writes every value into the statement's text: a batch's
    readings become seven array literals, which psycopg builds element by element in
    Python (a timestamp about 4.6 µs, against 0.4 µs in binary). Bound on the server, with
    lists dumped in binary, the writer spends about a fifth less CPU a reading, and the
    batch's INSERT, whose text no longer changes, is prepared once. Only the writer: the
    web's queries keep Django's default, which every query form supports.
    Call it before the process connects.
    """
    if connection.vendor == "postgresql":
        connection.settings_dict.setdefault("OPTIONS", {})["server_side_binding"] = True
        connection_created.connect(_dump_lists_in_binary, weak=False)


def _dump_lists_in_binary(sender, connection, **kwargs) -> None:
    if connection.vendor == "postgresql":
        connection.connection.adapters.register_dumper(list, ListBinaryDumper)


def _set_synchronous(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA synchronous={settings.SQLITE_SYNCHRONOUS}")


def database_durability() -> str:
    """How the writer's own connection commits: SQLite's synchronous mode or PostgreSQL's synchronous_commit."""
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA synchronous")
                return f"sqlite synchronous={SQLITE_SYNCHRONOUS.get(cursor.fetchone()[0], '?')}"
            if connection.vendor == "postgresql":
                cursor.execute("SHOW synchronous_commit")
                return f"postgresql synchronous_commit={cursor.fetchone()[0]}"
    except DatabaseError as error:
        connection.close()
        return f"{connection.vendor}, not reachable yet: {error}"
    return connection.vendor
