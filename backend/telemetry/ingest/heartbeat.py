"""The ingest's heartbeat, which `/api/health/` reads to show the broker connection."""
import logging
import threading

from django.db import DatabaseError, close_old_connections, connection

from common.outages import OutageLog
from health.models import Heartbeat
from health.services import heartbeat_beat
from telemetry.ingest.receiver import MqttReceiver
from telemetry.ingest.stats import IngestStats

log = logging.getLogger("telemetry.ingest")

HEARTBEAT_SECONDS = 5.0


class HeartbeatThread(threading.Thread):
    """Writes this ingest member's heartbeat every few seconds and at once when the broker state changes.

    It has its own thread so that a locked or absent database never stalls the main loop.
    """

    def __init__(self, receiver: MqttReceiver, stats: IngestStats) -> None:
        super().__init__(name="ingest-heartbeat", daemon=True)
        self.receiver = receiver
        self.stats = stats
        self.finished = threading.Event()
        self.key = Heartbeat.ingest_member_key(receiver.config.client_id)
        # The writer logs a database outage itself; this says only that the heartbeat is missing.
        self._outage = OutageLog(log, failed="could not write the ingest heartbeat")

    def run(self) -> None:
        while not self.finished.is_set():
            self.receiver.state_changed.clear()
            self.beat(self.receiver.state)
            self.receiver.state_changed.wait(HEARTBEAT_SECONDS)
        self.beat("stopped")
        connection.close()

    def beat(self, state: str) -> None:
        """Record `state` and the totals so far; a database outage is logged once."""
        try:
            close_old_connections()
            heartbeat_beat(process=self.key, state=state, details=dict(self.stats.totals))
            self._outage.success()
        except DatabaseError as error:
            self._outage.failure(error)
            connection.close()

    def finish(self) -> None:
        """Ask for a last "stopped" beat and the end of the thread, without waiting."""
        self.finished.set()
        self.receiver.state_changed.set()

    def stop(self, timeout: float) -> None:
        """Finish, waiting at most `timeout` (a locked database may hold the last beat)."""
        self.finish()
        self.join(timeout)
