"""An outage is logged when it starts and when it ends, not once per retry."""
import logging

import pytest

from common.outages import OutageLog
from devtools.clock import FakeClock

log = logging.getLogger("tests.outages")


@pytest.fixture
def clock():
    return FakeClock(start=100.0)


def messages(caplog):
    return [(record.levelno, record.getMessage()) for record in caplog.records if record.name == log.name]


def test_many_failures_log_one_line_and_the_recovery_one_more(caplog, clock):
    outage = OutageLog(log, failed="writing failed", recovered="writing works again", clock=clock)
    caplog.set_level(logging.INFO, logger=log.name)
    assert outage.failure(OSError("disk full")) is True
    for _ in range(50):
        clock.now += 1
        assert outage.failure(OSError("disk full")) is False
    assert outage.failing
    assert outage.success() == pytest.approx(50.0)
    assert not outage.failing
    assert messages(caplog) == [
        (logging.WARNING, "writing failed: disk full"),
        (logging.INFO, "writing works again after 50.0 s"),
    ]


def test_success_without_an_outage_logs_nothing(caplog, clock):
    outage = OutageLog(log, failed="writing failed", recovered="writing works again", clock=clock)
    caplog.set_level(logging.DEBUG, logger=log.name)
    assert outage.success() is None
    assert messages(caplog) == []


def test_each_new_outage_is_logged_again(caplog, clock):
    outage = OutageLog(log, failed="writing failed", recovered="back", clock=clock)
    caplog.set_level(logging.INFO, logger=log.name)
    for error in ("first", "second"):
        outage.failure(OSError(error))
        outage.failure(OSError(error))
        outage.success()
    assert [text for _, text in messages(caplog)] == [
        "writing failed: first", "back after 0.0 s", "writing failed: second", "back after 0.0 s"
    ]


def test_level_traceback_and_a_silent_recovery_are_chosen_by_the_caller(caplog, clock):
    outage = OutageLog(log, failed="pass failed", level=logging.ERROR, traceback=True, clock=clock)
    caplog.set_level(logging.INFO, logger=log.name)
    try:
        raise RuntimeError("boom")
    except RuntimeError as error:
        outage.failure(error)
    outage.success()
    (record,) = [record for record in caplog.records if record.name == log.name]
    assert record.levelno == logging.ERROR
    assert record.exc_info[1].args == ("boom",)
