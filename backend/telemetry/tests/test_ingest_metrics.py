"""The ingest's metrics (telemetry.ingest_metrics): each call moves exactly its series."""
import socket
import urllib.request
from datetime import UTC, datetime

import orjson
import pytest

from devtools.metrics import parse_samples, sample, scrape
from telemetry.ingest_metrics import OTHER_REASON, REJECTION_LABELS, IngestMetrics, reason_label
from telemetry.payload import MAX_PAYLOAD_BYTES, Rejection, parse_message
from telemetry.services import BatchResult

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
TOPIC = "devices/device-001/telemetry"


def exposition(metrics: IngestMetrics) -> dict:
    from prometheus_client import generate_latest

    return parse_samples(generate_latest(metrics.registry).decode())


# One message per rule of telemetry.payload, with the label its reason must get.
BAD_MESSAGES = [
    ("devices/bad id/telemetry", {"temperature": 1}, "topic"),
    (TOPIC, b"x" * (MAX_PAYLOAD_BYTES + 1), "too_large"),
    (TOPIC, b"{not json", "invalid_json"),
    (TOPIC, [1, 2], "not_an_object"),
    (TOPIC, {"deviceId": "other", "temperature": 1}, "device_mismatch"),
    (TOPIC, {"device_id": "other", "temperature": 1}, "device_mismatch"),
    (TOPIC, {"battery": 1}, "no_metric"),
    (TOPIC, {"temperature": "warm"}, "not_a_number"),
    (TOPIC, {"humidity": True}, "not_a_number"),
    (TOPIC, {"temperature": 1, "battery": "full"}, "not_a_number"),
    (TOPIC, {"temperature": 500}, "out_of_range"),
    (TOPIC, {"humidity": -1}, "out_of_range"),
    (TOPIC, {"temperature": 1, "battery": 101}, "out_of_range"),
    (TOPIC, {"temperature": 1, "ts": 5}, "ts_too_old"),
    (TOPIC, {"temperature": 1, "ts": 4_000_000_000_000}, "ts_in_future"),
    (TOPIC, {"temperature": 1, "ts": "soon"}, "ts_invalid"),
    (TOPIC, {"temperature": 1, "ts": -1}, "ts_invalid"),
    (TOPIC, {"temperature": 1, "ts": 1e300}, "ts_invalid"),
    (TOPIC, {"temperature": 1, "timestamp": 5}, "ts_invalid"),
    (TOPIC, {"temperature": 1, "timestamp": "yesterday"}, "ts_invalid"),
    (TOPIC, {"temperature": 1, "timestamp": "0001-01-01T00:00:00+01:00"}, "ts_invalid"),
]


@pytest.mark.parametrize(("topic", "document", "label"), BAD_MESSAGES)
def test_each_reason_of_the_parser_has_its_own_label(topic, document, label):
    payload = document if isinstance(document, bytes) else orjson.dumps(document)
    outcome = parse_message(topic, payload, NOW)
    assert isinstance(outcome, Rejection)
    assert reason_label(outcome.reason) == label, outcome.reason


def test_an_unknown_reason_is_other_and_the_labels_are_a_fixed_small_set():
    assert reason_label("something new: with detail") == OTHER_REASON
    assert len(REJECTION_LABELS) <= 15
    # "status" is the status topic's (telemetry.link_status; test_link_status.py).
    assert {label for _, _, label in BAD_MESSAGES} | {OTHER_REASON, "status"} == set(REJECTION_LABELS)


def test_a_written_batch_moves_each_counter_by_its_result():
    metrics = IngestMetrics()
    metrics.received(10)
    metrics.batch_written(
        BatchResult(stored=6, duplicates=1, rejected=3, rejections_not_kept=2, rejection_redeliveries=1),
        messages=11, seconds=0.02,
        reasons={"invalid JSON: unexpected character: line 1 column 2 (char 1)": 2, "ts is negative": 1},
    )
    metrics.batch_written(BatchResult(stored=4, duplicates=0, rejected=0), messages=4, seconds=0.2)

    samples = exposition(metrics)
    assert sample(samples, "telemetry_ingest_received_total") == 10
    assert sample(samples, "telemetry_ingest_stored_total") == 10
    assert sample(samples, "telemetry_ingest_duplicates_total") == 1
    assert sample(samples, "telemetry_ingest_rejected_total", reason="invalid_json") == 2
    assert sample(samples, "telemetry_ingest_rejected_total", reason="ts_invalid") == 1
    assert sum(value for (name, _), value in samples.items() if name == "telemetry_ingest_rejected_total") == 3
    assert sample(samples, "telemetry_ingest_rejections_not_kept_total") == 2
    assert sample(samples, "telemetry_ingest_rejection_redeliveries_total") == 1
    assert sample(samples, "telemetry_ingest_batch_messages_count") == 2
    assert sample(samples, "telemetry_ingest_batch_messages_sum") == 15
    assert sample(samples, "telemetry_ingest_batch_messages_bucket", le="5.0") == 1
    assert sample(samples, "telemetry_ingest_commit_seconds_bucket", le="0.025") == 1
    assert sample(samples, "telemetry_ingest_commit_seconds_bucket", le="0.25") == 2
    assert sample(samples, "telemetry_ingest_commit_seconds_sum") == pytest.approx(0.22)


def test_every_rejection_label_is_exposed_before_its_first_rejection():
    samples = exposition(IngestMetrics())
    exposed = {dict(labels)["reason"] for name, labels in samples if name == "telemetry_ingest_rejected_total"}
    assert exposed == set(REJECTION_LABELS)


def test_the_rejected_counter_moves_by_the_result_whatever_the_reasons_say():
    metrics = IngestMetrics()
    # Reasons covering more than the result counted (a redelivery among them), then fewer.
    metrics.batch_written(BatchResult(stored=0, duplicates=0, rejected=2), messages=3, seconds=0.01,
                          reasons={"payload is not a JSON object": 3})
    metrics.batch_written(BatchResult(stored=0, duplicates=0, rejected=4), messages=4, seconds=0.01,
                          reasons={"no metric: temperature or humidity is required": 1})
    samples = exposition(metrics)
    assert sample(samples, "telemetry_ingest_rejected_total", reason="not_an_object") == 2
    assert sample(samples, "telemetry_ingest_rejected_total", reason="no_metric") == 1
    assert sample(samples, "telemetry_ingest_rejected_total", reason=OTHER_REASON) == 3


def test_a_result_with_redeliveries_without_ts_counts_them():
    class FutureResult:
        stored, duplicates, rejected, rejections_not_kept, rejection_redeliveries = 1, 0, 0, 0, 0
        redelivered_without_ts = 5

    metrics = IngestMetrics()
    metrics.batch_written(FutureResult(), messages=1, seconds=0.001)
    assert sample(exposition(metrics), "telemetry_ingest_redelivered_without_ts_total") == 5


def test_the_gauges_show_the_last_state():
    metrics = IngestMetrics()
    assert sample(exposition(metrics), "telemetry_ingest_broker_connected") == 0
    metrics.connection_state(True)
    metrics.held(1500)
    samples = exposition(metrics)
    assert sample(samples, "telemetry_ingest_broker_connected") == 1
    assert sample(samples, "telemetry_ingest_held_messages") == 1500
    metrics.connection_state(False)
    metrics.held(0)
    samples = exposition(metrics)
    assert sample(samples, "telemetry_ingest_broker_connected") == 0
    assert sample(samples, "telemetry_ingest_held_messages") == 0


def test_two_instances_do_not_share_counters():
    first, second = IngestMetrics(), IngestMetrics()
    first.received(3)
    assert sample(exposition(second), "telemetry_ingest_received_total") == 0


def test_serve_answers_prometheus_text_over_http():
    metrics = IngestMetrics()
    metrics.received(7)
    server, thread = metrics.serve(0, addr="127.0.0.1")
    try:
        assert thread.daemon
        port = server.server_port
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            assert response.headers["Content-Type"].startswith("text/plain")
        assert sample(scrape(port), "telemetry_ingest_received_total") == 7
        metrics.received(1)
        assert sample(scrape(port), "telemetry_ingest_received_total") == 8
    finally:
        server.shutdown()
        server.server_close()


def test_serve_on_a_taken_port_fails_loudly():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            IngestMetrics().serve(taken.getsockname()[1], addr="127.0.0.1")


def test_wait_for_sample_returns_once_the_value_is_reached_and_says_what_it_saw_otherwise():
    from devtools.metrics import wait_for_sample

    metrics = IngestMetrics()
    server, _ = metrics.serve(0, addr="127.0.0.1")
    try:
        metrics.received(2)
        samples = wait_for_sample(server.server_port, "telemetry_ingest_received_total", 2)
        assert sample(samples, "telemetry_ingest_received_total") == 2
        with pytest.raises(AssertionError, match="is 2.0, not 3"):
            wait_for_sample(server.server_port, "telemetry_ingest_received_total", 3, timeout=0.3)
    finally:
        server.shutdown()
        server.server_close()
