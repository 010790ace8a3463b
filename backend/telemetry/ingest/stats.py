"""The ingest's running counters, and the one-line summary logged every few seconds."""
import logging
import time
from collections import Counter

log = logging.getLogger("telemetry.ingest")

COUNTERS = ("received", "stored", "duplicates", "rejected", "redelivered_without_ts", "statuses")


class IngestStats:
    """Running counters (all of COUNTERS, from zero) and the periodic summary line."""

    def __init__(self, interval_seconds: float) -> None:
        self.interval = interval_seconds
        self.totals = Counter(dict.fromkeys(COUNTERS, 0))
        self._window = Counter()
        self._window_started = time.monotonic()

    def add(self, **counts: int) -> None:
        self.totals.update(counts)
        self._window.update(counts)

    def maybe_log(self) -> None:
        elapsed = time.monotonic() - self._window_started
        if elapsed < self.interval:
            return
        if self._window["received"]:
            log.info(
                "received=%d stored=%d duplicates=%d rejected=%d rate=%.0f msg/s (totals: %s)",
                self._window["received"],
                self._window["stored"],
                self._window["duplicates"],
                self._window["rejected"],
                self._window["received"] / elapsed,
                ", ".join(f"{key}={value}" for key, value in sorted(self.totals.items())),
            )
        self._window.clear()
        self._window_started = time.monotonic()
