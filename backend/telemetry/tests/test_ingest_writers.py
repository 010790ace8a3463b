"""Several writer processes per ingest: the acks' order, the choice of writers, and the
writers' server-side binding on PostgreSQL."""
import threading
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from psycopg.adapt import PyFormat
from psycopg.types.array import ListBinaryDumper

from devices.models import Device
from telemetry.ingest import storage
from telemetry.ingest.receiver import IncomingMessage
from telemetry.ingest.runner import BatchPolicy, IngestRunner
from telemetry.ingest.writer import WriteResult
from telemetry.models import RejectedMessage, Telemetry


class FakeWriter:
    """A writer that answers when the test says so."""

    alive = True
    replies_pipe = None
    process = None

    def __init__(self):
        self.received, self.answers = [], []

    def start(self):
        self.received.clear()

    def close(self):
        pass

    def send(self, number, batch):
        self.received.append(number)

    def replies(self, timeout=0.0):
        answers, self.answers = self.answers, []
        return answers


class FakeReceiver:
    def __init__(self):
        self.acked = []

    def ack(self, message):
        self.acked.append(message.mid)

    def release(self, messages):
        pass


def message(mid: int) -> IncomingMessage:
    return IncomingMessage("devices/d-1/telemetry", b"{}", mid, 1, 1, time.time())


def runner_with(writers: int) -> IngestRunner:
    runner = IngestRunner(FakeReceiver(), policy=BatchPolicy(max_messages=2), stop=threading.Event(), writers=writers)
    runner.writers = [FakeWriter() for _ in range(writers)]
    return runner


def send(runner: IngestRunner, *mids: int) -> None:
    runner._batch = [message(mid) for mid in mids]
    runner._send_batch()


def test_batches_go_to_the_least_busy_writer_and_each_holds_at_most_two():
    runner = runner_with(2)
    for first in (1, 3, 5, 7):
        send(runner, first, first + 1)
    first, second = runner.writers
    assert (first.received, second.received) == ([1, 3], [2, 4])
    assert not runner._has_room


def test_a_batch_committed_early_is_acked_after_the_batches_before_it():
    runner = runner_with(2)
    send(runner, 1, 2)  # batch 1, first writer
    send(runner, 3, 4)  # batch 2, second writer
    first, second = runner.writers
    second.answers = [(2, WriteResult(stored=2))]
    runner._take_replies(0.0)
    assert runner.receiver.acked == []  # MQTT 3.1.1, 4.6: PUBACKs in the order the PUBLISHes came
    assert runner._has_room  # the second writer is free for the next batch meanwhile

    first.answers = [(1, WriteResult(stored=2))]
    runner._take_replies(0.0)
    assert runner.receiver.acked == [1, 2, 3, 4]
    assert runner.pending == {}
    assert runner.stats.totals["stored"] == 4


def test_a_restarted_writer_is_sent_again_only_the_batches_it_held():
    runner = runner_with(2)
    for first in (1, 3, 5):
        send(runner, first, first + 1)
    first, second = runner.writers
    runner._restart_writer(first)
    assert first.received == [1, 3]
    assert second.received == [2]


@pytest.mark.django_db
def test_sqlite_takes_one_writer():
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite refusal; PostgreSQL's default is the test below")
    with pytest.raises(CommandError, match="--writers 2 needs PostgreSQL"):
        call_command("ingest", "--writers", "2")
    with pytest.raises(CommandError, match="--writers must be positive"):
        call_command("ingest", "--writers", "0")


@pytest.fixture
def bound_on_server():
    """This test process's connection set up as the writer's (storage.bind_on_server), then put back."""
    options = connection.settings_dict.setdefault("OPTIONS", {})
    before = dict(options)
    connection.close()
    storage.bind_on_server()
    yield
    connection.close()
    options.clear()
    options.update(before)
    storage.connection_created.disconnect(storage._dump_lists_in_binary)


@pytest.mark.django_db(transaction=True)
def test_the_writer_stores_every_kind_of_message_with_parameters_bound_on_the_server(bound_on_server):
    if connection.vendor != "postgresql":
        pytest.skip("server-side binding is PostgreSQL's")
    now = time.time()
    readings = [(f"devices/d-{n % 3}/telemetry",
                 b'{"ts": %d, "temperature": %.1f, "humidity": 40, "battery": 90, "rssi": -60}'
                 % (now * 1000 - n * 1000, 20 + n / 10), now, False) for n in range(30)]
    others = [("devices/d-9/telemetry", b"not json", now, False),
              ("devices/d-7/status", b"online", now, False),
              ("devices/d-0/status", b"offline", now + 1, False)]
    writer = storage.BatchWriter(lambda seconds: False)

    result = writer.write(readings + others)

    assert connection.connection.adapters.get_dumper(list, PyFormat.AUTO) is ListBinaryDumper
    assert (result.stored, result.rejected, result.statuses) == (30, 1, 2)
    assert Telemetry.objects.filter(extra__rssi=-60).count() == 30
    newest = Device.objects.get(pk="d-0")
    assert (newest.latest_temperature, newest.link_state) == (20.0, "offline")
    assert Device.objects.get(pk="d-7").link_state == "online"
    assert RejectedMessage.objects.get().reason.startswith("invalid JSON")
    again = writer.write(readings)  # prepared by now: the same statements again
    assert (again.stored, again.duplicates) == (0, 30)
