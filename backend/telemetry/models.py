"""Stored readings and the messages the ingest refused."""
from django.db import models

from devices.models import Device


class Telemetry(models.Model):
    """One reading of one device at one instant; (device, ts) is unique."""

    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, related_name="readings", db_index=False
    )
    ts = models.DateTimeField()
    temperature = models.FloatField(null=True, blank=True)
    humidity = models.FloatField(null=True, blank=True)
    battery = models.FloatField(null=True, blank=True)
    extra = models.JSONField(null=True, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        verbose_name = "reading"
        constraints = [
            # Absorbs MQTT redeliveries; its index (device, ts) also serves
            # "latest N readings of a device" and "readings of a device in a window".
            models.UniqueConstraint(fields=["device", "ts"], name="telemetry_device_ts_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.device_id} @ {self.ts:%Y-%m-%d %H:%M:%S}"


class RejectedMessage(models.Model):
    """A message that broke the payload rules: kept for inspection, never a reading."""

    RAW_PAYLOAD_LIMIT = 4096

    topic = models.CharField(max_length=300)
    payload = models.TextField(help_text="The raw payload's first 4 KiB, undecodable bytes escaped.")
    reason = models.CharField(max_length=300)
    received_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.topic}: {self.reason}"
