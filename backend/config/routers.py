"""Read replicas: the API's reads go to the `replica` alias, everything else to the primary.

Only the web process marks reads for the replica (ReplicaReadsMiddleware, for its safe
requests); the ingest, its writer and the worker never pass through it, so every query
they make stays on the primary. The mark lives in a context variable: it is per thread
(and per asyncio task) and reset when the request ends, so it never leaks into another one.
"""
import logging
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DatabaseError, connections

log = logging.getLogger(__name__)

PRIMARY = "default"
REPLICA = "replica"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Accounts, sessions and tokens are read where they are written: a login, a new token or a
# password change must work on the very next request, whatever the replica's lag.
PRIMARY_ONLY_APPS = frozenset({"auth", "authtoken", "sessions", "contenttypes", "admin"})

_reads_from_replica: ContextVar[bool] = ContextVar("reads_from_replica", default=False)


@contextmanager
def replica_reads():
    """Inside this block, reads may be served by the replica (the web process's safe requests)."""
    token = _reads_from_replica.set(True)
    try:
        yield
    finally:
        _reads_from_replica.reset(token)


@contextmanager
def primary_reads():
    """Inside this block (or a function decorated with `@primary_reads()`), reads go to the primary.

    For code that must see its own writes: the replica may be a moment behind.
    """
    token = _reads_from_replica.set(False)
    try:
        yield
    finally:
        _reads_from_replica.reset(token)


def reads_from_replica() -> bool:
    """Whether reads of the current context are marked for the replica."""
    return _reads_from_replica.get()


class ReplicaHealth:
    """Whether the replica can serve reads; after a connection error, not for `retry_seconds`."""

    def __init__(self, alias: str = REPLICA, *, databases=connections, clock=time.monotonic):
        self.alias = alias
        self.databases = databases
        self.clock = clock
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._retry_at = 0.0

    def available(self) -> bool:
        """True when the replica answers; a failed connection routes reads to the primary for a while."""
        if self._down_since is not None and self.clock() < self._retry_at:
            return False
        connection = self.databases[self.alias]
        try:
            # Once per request (Django resets the flag when a request starts): a connection
            # kept from an earlier request to a replica that has gone since is noticed here,
            # before a query fails on it.
            connection.close_if_health_check_failed()
            connection.ensure_connection()
        except DatabaseError as error:
            self._went_down(error)
            return False
        self._is_up()
        return True

    def _went_down(self, error: Exception) -> None:
        retry_seconds = settings.DATABASE_REPLICA_RETRY_SECONDS
        with self._lock:
            now = self.clock()
            self._retry_at = now + retry_seconds
            if self._down_since is None:
                self._down_since = now
                log.warning("read replica unreachable, API reads go to the primary (next try in %g s): %s",
                            retry_seconds, " ".join(str(error).split()))

    def _is_up(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            if self._down_since is not None:
                log.warning("read replica is back after %.1f s; API reads go to it again",
                            self.clock() - self._down_since)
                self._down_since = None


replica_health = ReplicaHealth()


class PrimaryReplicaRouter:
    """Writes, migrations and unmarked reads on the primary; marked reads on the replica while it answers."""

    def __init__(self, health: ReplicaHealth = replica_health):
        self.health = health

    def db_for_read(self, model, **hints):
        if not reads_from_replica() or model._meta.app_label in PRIMARY_ONLY_APPS:
            return PRIMARY
        return REPLICA if self.health.available() else PRIMARY

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases hold the same data: an object read on the replica may refer to one
        # read on the primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY


class ReplicaReadsMiddleware:
    """Marks the reads of the web process's safe requests (GET, HEAD, OPTIONS) for the replica."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in SAFE_METHODS:
            return self.get_response(request)
        with replica_reads():
            return self.get_response(request)
