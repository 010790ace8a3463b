"""A private PostgreSQL primary and its streaming replica, for tests and measurements.

The primary is a fresh cluster (initdb) in a temporary folder; the replica is a
`pg_basebackup -R` of it, which writes standby.signal and primary_conninfo, so the
replica streams from the primary as a production standby does. Both listen on
127.0.0.1 only, on free ports, with trust authentication. PostgreSQL refuses to run as
root, so as root every server command runs as the postgres user.
"""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from devtools.broker import free_port
from devtools.waiting import wait_until


def postgres_bin_dir() -> Path | None:
    """The folder of initdb, pg_ctl and pg_basebackup (pg_config --bindir), or None when not installed."""
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    try:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    bin_dir = Path(found.stdout.strip())
    tools = ("postgres", "initdb", "pg_ctl", "pg_basebackup")
    return bin_dir if all((bin_dir / tool).is_file() for tool in tools) else None


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class PostgresServer:
    """One PostgreSQL server on a data folder of its own, started and stopped with pg_ctl."""

    def __init__(self, bin_dir: Path, data_dir: Path, *, port: int | None = None):
        self.bin_dir = bin_dir
        self.data_dir = data_dir
        self.port = port or free_port()

    @property
    def log_file(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    def run(self, tool: str, *args: str, timeout: float = 120) -> None:
        """Run one of PostgreSQL's programs as the server's user; fail with its output."""
        command = _as_server_user([str(self.bin_dir / tool), *args])
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stdout}{done.stderr}")

    def start(self) -> "PostgresServer":
        # log_connections lets a test see which processes ever connected to which server.
        options = (f"-c port={self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
                   "-c log_connections=on -c max_connections=100")
        self.run("pg_ctl", "start", "--wait", "--timeout=120", "-D", str(self.data_dir),
                 "-l", str(self.log_file), "-o", options)
        return self

    def stop(self) -> None:
        """A fast shutdown: sessions are ended, everything committed stays."""
        if (self.data_dir / "postmaster.pid").exists():
            self.run("pg_ctl", "stop", "--wait", "--timeout=60", "-m", "fast", "-D", str(self.data_dir))

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        """An autocommit connection of the test's own."""
        return psycopg.connect(self.url(database), autocommit=True, connect_timeout=10)

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""


class StreamingReplica:
    """A primary and one streaming replica of it, removed with their folder by close()."""

    def __init__(self, bin_dir: Path):
        # Not under pytest's tmp_path: its folders are closed to the postgres user.
        self.folder = Path(tempfile.mkdtemp(prefix="telemetry-replica-"))
        os.chmod(self.folder, 0o755)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self.primary = PostgresServer(bin_dir, self.folder / "primary")
        self.replica = PostgresServer(bin_dir, self.folder / "replica")

    def start(self) -> "StreamingReplica":
        primary = self.primary
        try:
            primary.run("initdb", "--auth=trust", "--username=postgres", "--encoding=UTF8", "--no-sync",
                        "-D", str(primary.data_dir))
            primary.start()
            primary.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                        "-D", str(self.replica.data_dir), "-R", "--wal-method=stream", "--checkpoint=fast")
            self.replica.start()
        except BaseException:
            self.close()
            raise
        return self

    def replay_lsn_reached(self, lsn: str) -> bool:
        """Whether the replica has replayed the primary's WAL up to `lsn`."""
        with self.replica.connect() as replica:
            return replica.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn]).fetchone()[0]

    def primary_lsn(self) -> str:
        with self.primary.connect() as primary:
            return primary.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]

    def pause_replay(self, timeout: float = 30.0) -> None:
        """Stop applying the primary's WAL on the replica (it keeps receiving it)."""
        with self.replica.connect() as replica:
            replica.execute("SELECT pg_wal_replay_pause()")
            wait_until(lambda: replica.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0] == "paused",
                       timeout, message="the replica did not pause its replay")

    def resume_replay(self) -> None:
        with self.replica.connect() as replica:
            replica.execute("SELECT pg_wal_replay_resume()")

    def close(self) -> None:
        for server in (self.replica, self.primary):
            try:
                server.stop()
            except (RuntimeError, OSError, subprocess.SubprocessError):
                pass
        shutil.rmtree(self.folder, ignore_errors=True)
