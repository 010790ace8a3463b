"""A private Mosquitto running the project's mosquitto.conf on a chosen port.

Used by the tests, the benchmarks and `make run`, so all three run the broker
with the limits the project ships, not a stock broker's.
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[2]
PROJECT_CONFIG = REPO_DIR / "mosquitto.conf"
_OVERRIDDEN = ("listener", "persistence_location", "log_dest")


def mosquitto_binary() -> str:
    """The mosquitto executable, or a clear error saying how to install it."""
    found = shutil.which("mosquitto") or next(
        (path for path in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.path.exists(path)), None
    )
    if found is None:
        raise RuntimeError("mosquitto is not installed: run `make deps` or `apt-get install mosquitto`")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def render_config(*, port: int, data_dir: Path, bind: str = "127.0.0.1", extra: str = "") -> str:
    """The project's config with its own listener, persistence folder and log file."""
    kept = [
        line
        for line in PROJECT_CONFIG.read_text().splitlines()
        if not line.strip().startswith(_OVERRIDDEN)
    ]
    lines = [
        *kept,
        f"listener {port} {bind}".rstrip(),
        f"persistence_location {data_dir}/",
        f"log_dest file {data_dir}/mosquitto.log",
    ]
    if os.geteuid() == 0:
        lines.append("user root")  # as root Mosquitto would switch to a user that cannot write data_dir
    return "\n".join(lines) + "\n" + extra


class LocalBroker:
    """Start, stop and restart one Mosquitto process; its data survives a restart."""

    def __init__(self, data_dir: Path, port: int | None = None, *, bind: str = "127.0.0.1", extra: str = ""):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.bind = bind
        self.extra = extra
        self.process: subprocess.Popen | None = None

    @property
    def log_file(self) -> Path:
        return self.data_dir / "mosquitto.log"

    def start(self, timeout: float = 10.0) -> "LocalBroker":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "mosquitto.conf"
        config.write_text(render_config(port=self.port, data_dir=self.data_dir, bind=self.bind, extra=self.extra))
        with open(self.data_dir / "stderr.log", "ab") as stderr:
            self.process = subprocess.Popen(
                [mosquitto_binary(), "-c", str(config)], stdout=subprocess.DEVNULL, stderr=stderr
            )
        deadline = time.monotonic() + timeout
        while not port_in_use(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.log_file.read_text() if self.log_file.exists() else ""
                raise RuntimeError(f"mosquitto did not start on port {self.port}:\n{log}")
            time.sleep(0.05)
        return self

    def stop(self, *, hard: bool = False) -> None:
        """SIGTERM saves the persistent store; `hard` (SIGKILL) loses what was not saved."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
        self.process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> "LocalBroker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> None:
    """Run the project's broker in the foreground (for `make run`)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--bind", default="0.0.0.0")
    parser.add_argument("--data-dir", type=Path, default=REPO_DIR / ".data" / "mosquitto")
    args = parser.parse_args()
    if port_in_use(args.port):
        print(
            f"A broker already listens on port {args.port}; using it. Its own limits apply: "
            "a stock Mosquitto queues only 1,000 messages for a stopped ingest.",
            flush=True,
        )
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
        return
    broker = LocalBroker(args.data_dir, args.port, bind=args.bind).start()
    print(f"mosquitto listening on port {args.port} with ./mosquitto.conf (log: {broker.log_file})", flush=True)
    # The handlers only pass the signal on: the main thread is already waiting for
    # mosquitto, and a second wait from inside a handler would block on the first.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: broker.process.send_signal(signal.SIGTERM))
    broker.process.wait()
    sys.exit(0)


if __name__ == "__main__":
    main()
