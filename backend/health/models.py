"""Heartbeats: how the web process knows whether ingest and worker are alive."""
from django.db import models


class Heartbeat(models.Model):
    """The latest sign of life of one background process."""

    class Process(models.TextChoices):
        INGEST = "ingest"
        WORKER = "worker"

    process = models.CharField(primary_key=True, max_length=16, choices=Process.choices)
    state = models.CharField(max_length=32, help_text='e.g. "connected", "disconnected", "running".')
    details = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.process}: {self.state}"
