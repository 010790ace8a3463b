"""Child processes of the platform (ingest, worker, web, simulator) for tests and benchmarks."""
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

BACKEND_DIR = Path(__file__).resolve().parents[1]


class ManagedProcess:
    """A child process whose combined output goes to a file that can be waited on."""

    def __init__(self, args: list[str], *, log_file: Path, env: dict[str, str] | None = None, cwd: Path = BACKEND_DIR):
        self.args = args
        self.log_file = Path(log_file)
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.cwd = cwd
        self.process: subprocess.Popen | None = None

    @classmethod
    def manage(cls, *command: str, log_file: Path, env: dict[str, str] | None = None) -> "ManagedProcess":
        """A `python manage.py ...` process of the backend."""
        return cls([sys.executable, "manage.py", *command], log_file=log_file, env=env)

    @classmethod
    def gunicorn(cls, *, port: int, log_file: Path, env: dict[str, str] | None = None) -> "ManagedProcess":
        """The web as production runs it: gunicorn with config/gunicorn.conf.py on 127.0.0.1:`port`."""
        return cls([sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"],
                   log_file=log_file, env={"GUNICORN_BIND": f"127.0.0.1:{port}", **(env or {})})

    def start(self) -> "ManagedProcess":
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(self.args, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def output(self) -> str:
        """What this run (since the last start) has printed."""
        return self.log_file.read_bytes()[self._offset :].decode("utf-8", "replace") if self.log_file.exists() else ""

    def wait_for_output(self, pattern: str, timeout: float = 15.0) -> re.Match:
        """Block until the output matches `pattern`; fail with the output if it never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.output())
            if match:
                return match
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} not seen in the output of {self.args}:\n{self.output()[-4000:]}")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def terminate(self, timeout: float = 10.0, sig: int = signal.SIGTERM) -> int:
        """Send `sig` and wait for the exit code (killing it if it outlives `timeout`)."""
        if not self.running:
            return self.process.returncode if self.process else 0
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"{self.args} did not exit within {timeout} s of signal {sig}") from None

    def kill(self) -> None:
        """SIGKILL: no chance to flush or clean up."""
        if self.running:
            self.process.kill()
            self.process.wait()
