"""A database outage is logged by the worker loop when it starts and when it ends, not on every retry."""
import logging

from django.db import OperationalError

from alerts.management.commands.process_tasks import Command


def worker_lines(caplog, logger):
    return [record.getMessage() for record in caplog.records if record.name == logger]


def test_the_worker_loop_logs_an_outage_once_and_its_end(caplog, monkeypatch):
    outcomes = [OperationalError("database is locked")] * 5 + [False]

    def run_next_task(queue):
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr("alerts.management.commands.process_tasks.tasks.run_next_task", run_next_task)
    monkeypatch.setattr("alerts.management.commands.process_tasks.connection.close", lambda: None)
    command = Command()
    command.queue = None
    caplog.set_level(logging.INFO, logger="alerts.worker")
    assert [command.run_next_task() for _ in range(6)] == [False] * 6
    lines = worker_lines(caplog, "alerts.worker")
    assert lines[0] == "the worker cannot use the database; it keeps retrying: database is locked"
    assert len(lines) == 2 and lines[1].startswith("the database is back after ")
