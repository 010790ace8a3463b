"""The ingest's Prometheus metrics, served by the process that acknowledges messages.

The writer subprocess stores the batches, but the counters live here in the main
process, which receives every batch's WriteResult (telemetry.ingest.writer): one registry, one /metrics.
"""
import logging
from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from telemetry.payload import MAX_PAYLOAD_BYTES, METRIC_RANGES
from telemetry.rejections import reason_kind

log = logging.getLogger("telemetry.ingest")

OTHER_REASON = "other"


def _reason_labels() -> dict[str, str]:
    """parse_message's reason kinds (telemetry.rejections.reason_kind) to a fixed set of labels."""
    labels = {
        "topic is not devices/{deviceId}/telemetry with a valid device id": "topic",
        f"payload larger than {MAX_PAYLOAD_BYTES} bytes": "too_large",
        "invalid JSON": "invalid_json",
        "payload is not a JSON object": "not_an_object",
        "deviceId does not match the topic's device id": "device_mismatch",
        "device_id does not match the topic's device id": "device_mismatch",
        "no metric": "no_metric",
        "ts before 2000-01-01": "ts_too_old",
        "ts more than 5 minutes in the future": "ts_in_future",
        "topic is not devices/{deviceId}/status with a valid device id": "topic",
        "status is neither online nor offline": "status",
    }
    for name, (low, high) in METRIC_RANGES.items():
        labels[f"{name} is not a number"] = "not_a_number"
        labels[f"{name} out of range {low:g}..{high:g}"] = "out_of_range"
    for kind in ("ts is not a number", "ts is negative", "ts out of range", "timestamp is not an ISO 8601 string",
                 "timestamp is not ISO 8601", "timestamp out of range"):
        labels[kind] = "ts_invalid"
    return labels


REASON_LABELS = _reason_labels()
# Every label the rejected counter can carry: Prometheus keeps one series per label value.
REJECTION_LABELS = tuple(sorted({*REASON_LABELS.values(), OTHER_REASON}))

BATCH_SIZE_BUCKETS = (1, 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000, 10000)
COMMIT_SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def reason_label(reason: str) -> str:
    """The metric label of a parse_message reason: one of REJECTION_LABELS."""
    return REASON_LABELS.get(reason_kind(reason), OTHER_REASON)


class IngestMetrics:
    """The ingest's counters, histograms and gauges, in a registry of their own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self._received = Counter("telemetry_ingest_received", "Messages received from the broker.", registry=r)
        self._stored = Counter("telemetry_ingest_stored", "Readings stored (committed).", registry=r)
        self._duplicates = Counter(
            "telemetry_ingest_duplicates", "Readings already stored (same device and ts): ignored.", registry=r
        )
        self._rejected = Counter(
            "telemetry_ingest_rejected", "Messages that broke the payload rules, by reason.", ["reason"], registry=r
        )
        self._rejections_not_kept = Counter(
            "telemetry_ingest_rejections_not_kept",
            "Rejections counted but not stored: beyond the hourly sample, or the same bytes again.", registry=r,
        )
        self._rejection_redeliveries = Counter(
            "telemetry_ingest_rejection_redeliveries",
            "Redelivered rejections already stored: neither stored nor counted again.", registry=r,
        )
        self._redelivered_without_ts = Counter(
            "telemetry_ingest_redelivered_without_ts",
            "Redelivered readings without a ts of their own (their receive time is new).", registry=r,
        )
        self._statuses = Counter(
            "telemetry_ingest_statuses", "Status messages (online, offline) taken into the devices' link state.",
            registry=r,
        )
        self._batch_messages = Histogram(
            "telemetry_ingest_batch_messages", "Messages per written batch.", buckets=BATCH_SIZE_BUCKETS, registry=r
        )
        self._commit_seconds = Histogram(
            "telemetry_ingest_commit_seconds", "Time from sending a batch to the writer to its commit.",
            buckets=COMMIT_SECONDS_BUCKETS, registry=r,
        )
        self._connected = Gauge("telemetry_ingest_broker_connected", "1 while connected to the broker.", registry=r)
        self._held = Gauge(
            "telemetry_ingest_held_messages", "Messages received and not yet acknowledged to the broker.", registry=r
        )
        for label in REJECTION_LABELS:  # every series exists from the start, so rate() sees its first rise
            self._rejected.labels(reason=label)

    def received(self, n: int) -> None:
        """`n` more messages came from the broker."""
        self._received.inc(n)

    def batch_written(self, result, *, messages: int, seconds: float,
                      reasons: Mapping[str, int] | None = None) -> None:
        """A batch of `messages` committed after `seconds`, with its WriteResult (or a BatchResult).

        `reasons` counts the batch's rejections by their parse_message reason. The rejected
        counter moves by exactly `result.rejected` (redeliveries already stored are not
        counted again): reasons fill it in their order, and what they do not cover is "other".
        """
        self._stored.inc(result.stored)
        self._duplicates.inc(result.duplicates)
        remaining = result.rejected
        by_label: dict[str, int] = {}
        for reason, count in (reasons or {}).items():
            taken = min(count, remaining)
            if taken > 0:
                label = reason_label(reason)
                by_label[label] = by_label.get(label, 0) + taken
                remaining -= taken
        if remaining > 0:
            by_label[OTHER_REASON] = by_label.get(OTHER_REASON, 0) + remaining
        for label, count in by_label.items():
            self._rejected.labels(reason=label).inc(count)
        self._rejections_not_kept.inc(result.rejections_not_kept)
        self._rejection_redeliveries.inc(result.rejection_redeliveries)
        self._redelivered_without_ts.inc(getattr(result, "redelivered_without_ts", 0))
        self._statuses.inc(getattr(result, "statuses", 0))
        self._batch_messages.observe(messages)
        self._commit_seconds.observe(seconds)

    def connection_state(self, connected: bool) -> None:
        """The broker connection went up (True) or down (False)."""
        self._connected.set(1 if connected else 0)

    def held(self, n: int) -> None:
        """`n` messages are held unacknowledged right now (queued, batched, or being written)."""
        self._held.set(n)

    def serve(self, port: int, addr: str = "0.0.0.0"):
        """Serve /metrics on `port` from a daemon thread; returns (server, thread)."""
        server, thread = start_http_server(port, addr=addr, registry=self.registry)
        log.info("metrics at http://%s:%d/metrics", addr, server.server_port)
        return server, thread
