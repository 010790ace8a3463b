"""The PostgreSQL server DATABASE_URL names, as the benchmarks use it: scratch databases, its processes, rows."""
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg


def with_database(url: str, name: str) -> str:
    """`url` with its database replaced by `name`."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class Server:
    """A PostgreSQL server on this host: scratch databases and its processes (postmaster and children)."""

    def __init__(self, url: str):
        self.url = url
        self.admin = with_database(url, "postgres")
        with psycopg.connect(self.admin, autocommit=True) as connection:
            data_dir = connection.execute("SHOW data_directory").fetchone()[0]
        self.postmaster = psutil.Process(int((Path(data_dir) / "postmaster.pid").read_text().split()[0]))

    def create(self, name: str) -> str:
        with psycopg.connect(self.admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
        return with_database(self.url, name)

    def drop(self, name: str) -> None:
        with psycopg.connect(self.admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def processes(self) -> list[psutil.Process]:
        return [self.postmaster, *self.postmaster.children(recursive=True)]


def stored(url: str) -> tuple[int, int]:
    """Readings in the database at `url`: all rows, and distinct (device, ts)."""
    with psycopg.connect(url) as connection:
        return connection.execute(
            "SELECT count(*), count(DISTINCT (device_id, ts)) FROM telemetry_telemetry"
        ).fetchone()


class RowPoll:
    """Readings committed so far, polled on one open connection while a drain runs.

    A `count(*)` reads the whole table: polled every 50 ms it would cost the server a good part of
    a core, taken from the ingest it measures. The lowest and newest ids (a step at each end of
    each partition's primary key) say when to count: ids skipped (a rolled-back batch, a
    conflict) make their span high, never low, and both ends are read on every poll, since
    with several writers a lower id can commit after a higher one. The count runs only
    once the span says the backlog may be complete, and at the first commit.
    """

    def __init__(self, url: str):
        self.connection = psycopg.connect(url, autocommit=True)
        self.counted = False

    def newest(self, expected: int) -> int:
        """The rows stored, exact when 0 or when at least `expected`; an estimate from the ids in between."""
        lowest, newest = self.connection.execute("SELECT min(id), max(id) FROM telemetry_telemetry").fetchone()
        if newest is None:
            return 0
        if not self.counted:
            self.counted = True
            return self.count()
        estimate = newest - lowest + 1
        return self.count() if estimate >= expected else estimate

    def count(self) -> int:
        return self.connection.execute("SELECT count(*) FROM telemetry_telemetry").fetchone()[0]

    def close(self) -> None:
        self.connection.close()
