"""The ingest's main loop around a writer that cannot be started (no broker, no processes)."""
import threading

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

    runner._start_writer()
    runner._restart_writer()  # fails again: logged once, retried later
    assert not runner.writer.alive
    runner._restart_writer()

    assert len(attempts) == 3
    assert runner.writer.alive
    assert sent == [1, 2]
    assert sum("could not start the writer process" in record.message for record in caplog.records) == 1
