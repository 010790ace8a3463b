"""Child processes of the platform (ingest, worker, web, simulator) for tests and benchmarks."""
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

BACKEND_DIR = Path(__file__).resolve().parents[1]
# The web as production runs it, from the backend folder.
GUNICORN_COMMAND = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"]


class ManagedProcess:
    """A child process whose combined output goes to a file that can be waited on.

    `piped`: the output reaches the file through a pipe this process copies, so that a
    file-size limit set on the child limits its own writes, not its logging.
    `preexec_fn` runs in the child before it executes (subprocess.Popen's).
    """

    def __init__(self, args: list[str], *, log_file: Path, env: dict[str, str] | None = None, cwd: Path = BACKEND_DIR,
                 piped: bool = False, preexec_fn=None):
        self.args = args
        self.log_file = Path(log_file)
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.cwd = cwd
        self.piped = piped
        self.preexec_fn = preexec_fn
        self.process: subprocess.Popen | None = None

    @classmethod
    def manage(cls, *command: str, log_file: Path, env: dict[str, str] | None = None, **options) -> "ManagedProcess":
        """A `python manage.py ...` process of the backend."""
        return cls([sys.executable, "manage.py", *command], log_file=log_file, env=env, **options)

    @classmethod
    def gunicorn(cls, *, port: int, log_file: Path, env: dict[str, str] | None = None) -> "ManagedProcess":
        """The web as production runs it: gunicorn with config/gunicorn.conf.py on 127.0.0.1:`port`."""
        return cls(GUNICORN_COMMAND, log_file=log_file, env={"GUNICORN_BIND": f"127.0.0.1:{port}", **(env or {})})

    def start(self) -> "ManagedProcess":
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        if self.piped:
            self.process = subprocess.Popen(self.args, cwd=self.cwd, env=self.env, stdout=subprocess.PIPE,
                                            stderr=subprocess.STDOUT, preexec_fn=self.preexec_fn)
            threading.Thread(target=self._copy_output, args=(self.process.stdout,), daemon=True).start()
            return self
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(self.args, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            preexec_fn=self.preexec_fn)
        return self

    def _copy_output(self, pipe) -> None:
        with open(self.log_file, "ab") as log:
            for chunk in iter(lambda: os.read(pipe.fileno(), 65536), b""):
                log.write(chunk)
                log.flush()
        pipe.close()

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

    def kill(self, *, children_timeout: float | None = None) -> None:
        """SIGKILL: no chance to flush or clean up.

        With `children_timeout`, also wait that long for its children (left to end on
        their own, as after a real crash) to have exited.
        """
        if not self.running:
            return
        children = psutil.Process(self.process.pid).children(recursive=True) if children_timeout else []
        self.process.kill()
        self.process.wait()
        _, alive = psutil.wait_procs(children, timeout=children_timeout)
        assert not alive, f"children of {self.args} still running {children_timeout} s after its kill: {alive}"
