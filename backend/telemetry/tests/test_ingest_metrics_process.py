"""The real `manage.py ingest --metrics-port` against a real broker: its /metrics counts what it stored."""
import pytest

from devtools.broker import free_port
from devtools.metrics import sample, scrape, wait_for_sample
from devtools.waiting import wait_until
from telemetry.models import RejectedMessage, Telemetry

pytestmark = pytest.mark.django_db(transaction=True)

TS = 1728481425000
DEVICE = "metrics-dev"
# Bad messages by the reason label each must be counted under.
BAD = {
    "invalid_json": [b"not json", b"{"],
    "out_of_range": [b'{"temperature": 500}'],
    "no_metric": [b'{"battery": 50}', b"{}"],
}


def _scrape_or_none(port):
    try:
        return scrape(port)
    except OSError:
        return None


def test_the_counters_move_by_exactly_what_was_stored_ignored_and_rejected(mqtt_broker, start_ingest,
                                                                            publisher_for):
    port = free_port()
    start_ingest(mqtt_broker, "--metrics-port", str(port))
    before = wait_until(lambda: _scrape_or_none(port), timeout=10)
    assert sample(before, "telemetry_ingest_broker_connected") == 1
    publisher = publisher_for(mqtt_broker)
    stored, duplicates = 7, 3
    for n in range(stored):
        publisher.reading(DEVICE, temperature=20 + n, ts=TS + n)
    wait_until(lambda: Telemetry.objects.filter(device_id=DEVICE).count() == stored)
    for n in range(duplicates):  # the same ts again: ignored by the unique (device, ts) key
        publisher.reading(DEVICE, temperature=30, ts=TS + n)
    for payloads in BAD.values():
        for payload in payloads:
            publisher.publish(f"devices/{DEVICE}/telemetry", payload)
    rejected = sum(map(len, BAD.values()))
    received = stored + duplicates + rejected

    wait_for_sample(port, "telemetry_ingest_received_total", received)
    after = wait_until(lambda: _all_counted(port, received), timeout=15,
                       message="the ingest never counted every message as written and acknowledged")

    assert sample(after, "telemetry_ingest_received_total") == received
    assert sample(after, "telemetry_ingest_stored_total") == stored
    assert sample(after, "telemetry_ingest_duplicates_total") == duplicates
    for label, payloads in BAD.items():
        assert sample(after, "telemetry_ingest_rejected_total", reason=label) == len(payloads), label
    assert sum(value for (name, _), value in after.items() if name == "telemetry_ingest_rejected_total") == rejected
    assert sample(after, "telemetry_ingest_batch_messages_sum") == received
    batches = sample(after, "telemetry_ingest_batch_messages_count")
    assert batches >= 1 and sample(after, "telemetry_ingest_commit_seconds_count") == batches
    assert sample(after, "telemetry_ingest_broker_connected") == 1
    assert sample(after, "telemetry_ingest_held_messages") == 0
    assert RejectedMessage.objects.filter(device_id=DEVICE).count() == rejected


def _all_counted(port, received):
    """The scrape once every message is in a written batch and none is held, else None."""
    samples = _scrape_or_none(port)
    if samples is None:
        return None
    written = sample(samples, "telemetry_ingest_batch_messages_sum")
    return samples if written == received and sample(samples, "telemetry_ingest_held_messages") == 0 else None


def test_a_metrics_port_already_taken_stops_the_ingest_at_start(mqtt_broker, platform_env, start_process):
    import socket

    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ingest = start_process("ingest", "--metrics-port", str(port), env=platform_env(mqtt_broker))
        assert ingest.process.wait(timeout=60) != 0
    assert f"cannot serve metrics on port {port}" in ingest.output()
