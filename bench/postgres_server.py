"""The PostgreSQL server DATABASE_URL names, as the benchmarks use it: scratch databases and the CPU of its processes."""
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


def row_count(connection: psycopg.Connection) -> int:
    """Readings committed so far, on an open autocommit connection (polled while a drain runs)."""
    return connection.execute("SELECT count(*) FROM telemetry_telemetry").fetchone()[0]
