"""The ingest's main loop and its writer process, without a broker."""
import os
import subprocess
import sys
import threading

import psutil

from devtools.processes import BACKEND_DIR
from devtools.waiting import wait_until

from telemetry.ingest import runner as runner_module
from telemetry.ingest.runner import BatchPolicy, IngestRunner
from telemetry.ingest.writer import WriterProcess


class StartedWriter:
    exitcode = None

    def is_alive(self) -> bool:
        return True


def test_a_writer_that_cannot_be_started_is_retried_and_then_sent_every_pending_batch(monkeypatch, caplog):
    attempts, sent = [], []

    def start(writer: WriterProcess) -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise OSError(24, "Too many open files")
        writer.process = StartedWriter()

    monkeypatch.setattr(WriterProcess, "start", start)
    monkeypatch.setattr(WriterProcess, "send", lambda writer, number, batch: sent.append(number))
    monkeypatch.setattr(runner_module, "WRITER_RESTART_SECONDS", 0.0)
    runner = IngestRunner(receiver=None, policy=BatchPolicy(), stop=threading.Event())
    runner.pending = {1: ["a"], 2: ["b"]}

    writer = runner.writers[0]
    runner._writer_of = {1: writer, 2: writer}
    runner._start_writer(writer)
    runner._restart_writer(writer)  # fails again: logged once, retried later
    assert not writer.alive
    runner._restart_writer(writer)

    assert len(attempts) == 3
    assert writer.alive
    assert sent == [1, 2]
    assert sum("could not start a writer process" in record.message for record in caplog.records) == 1


# A parent that sends the writer one batch and dies before the writer has finished
# starting (Django's set-up takes the writer most of a second).
PARENT_DYING_EARLY = r"""
import os, sys, time
import django
django.setup()
from django.utils import timezone
from telemetry.ingest.receiver import IncomingMessage
from telemetry.ingest.writer import WriterProcess

writer = WriterProcess()
writer.start()
writer.send(1, [IncomingMessage("devices/dev-1/telemetry", b'{"temperature": 20}', 1, 1, 1, time.time())])
while not writer._outbox.empty():
    time.sleep(0.01)
print(writer.pid, flush=True)
time.sleep(0.1)  # the sender thread writes the batch into the pipe
os._exit(0)
"""


def test_a_writer_whose_parent_died_during_its_start_up_exits_while_the_database_is_away(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings",
           # A directory that does not exist: every commit fails as with a database that is away.
           "DATABASE_URL": f"sqlite:///{tmp_path / 'missing' / 'db.sqlite3'}"}
    parent = subprocess.run([sys.executable, "-c", PARENT_DYING_EARLY], cwd=BACKEND_DIR, env=env,
                            capture_output=True, text=True, timeout=60)
    assert parent.returncode == 0, parent.stderr
    writer = psutil.Process(int(parent.stdout.split()[-1]))
    try:
        wait_until(lambda: not writer.is_running() or writer.status() == psutil.STATUS_ZOMBIE, timeout=20,
                   message="the orphaned writer kept retrying its batch")
    finally:
        if writer.is_running():
            writer.kill()
