"""Heartbeats: how the web process knows whether ingest and worker are alive."""
from django.db import models


INGEST_KEY_LENGTH = 200


class Heartbeat(models.Model):
    """The latest sign of life of one background process.

    The worker's row is keyed by its kind; each ingest member's by its MQTT client id
    (`ingest_member_key`), so that one dead member of a shared group shows.
    """

    class Process(models.TextChoices):
        INGEST = "ingest"
        WORKER = "worker"

    process = models.CharField(primary_key=True, max_length=INGEST_KEY_LENGTH)
    state = models.CharField(max_length=32, help_text='e.g. "connected", "disconnected", "running".')
    details = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField()

    @staticmethod
    def ingest_member_key(client_id: str) -> str:
        """The row of the ingest member connected as `client_id`."""
        return f"{Heartbeat.Process.INGEST}:{client_id}"[:INGEST_KEY_LENGTH]

    def __str__(self) -> str:
        return f"{self.process}: {self.state}"
