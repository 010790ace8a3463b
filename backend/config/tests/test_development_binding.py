"""`make run` listens on loopback only: DEBUG's error pages and an anonymous broker are for this machine."""
import shlex
import signal
import sys

import psutil

from devtools.broker import REPO_DIR, free_port
from devtools.processes import ManagedProcess
from devtools.waiting import wait_until

PROCFILE = REPO_DIR / "Procfile"


def procfile_commands() -> dict[str, list[str]]:
    """Each Procfile process's command, split as the shell would."""
    entries = (line.split(":", 1) for line in PROCFILE.read_text().splitlines() if line.strip())
    return {name.strip(): shlex.split(command) for name, command in entries}


def test_make_run_serves_the_web_on_loopback_only():
    web = procfile_commands()["web"]
    address = web[web.index("runserver") + 1]
    assert address == "127.0.0.1:8000"


def test_make_run_starts_the_broker_on_loopback():
    broker = procfile_commands()["broker"]
    # Without --bind it listens on devtools.broker's default, checked below.
    assert "--bind" not in broker or broker[broker.index("--bind") + 1] == "127.0.0.1"


def test_the_development_broker_listens_on_loopback_only(tmp_path):
    port = free_port()
    broker = ManagedProcess(
        [sys.executable, "-m", "devtools.broker", "--port", str(port), "--data-dir", str(tmp_path / "broker")],
        log_file=tmp_path / "broker.log",
    ).start()
    try:
        broker.wait_for_output(r"mosquitto listening on")

        def listening() -> set[str]:
            mosquitto = psutil.Process(broker.process.pid).children()
            return {conn.laddr.ip for child in mosquitto for conn in child.net_connections("inet")
                    if conn.status == psutil.CONN_LISTEN}

        assert wait_until(listening) == {"127.0.0.1"}
        assert broker.terminate(sig=signal.SIGTERM) == 0
    finally:
        if broker.running:  # a check failed: SIGKILL would orphan mosquitto, so stop it first
            for child in psutil.Process(broker.process.pid).children():
                child.kill()
            broker.kill()
