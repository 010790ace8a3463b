"""Stored readings and the messages the ingest refused."""
from django.db import models

from devices.models import Device
from telemetry import rejections


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
    """A message that broke the payload rules: kept for inspection, never a reading.

    Only a sample is kept (telemetry.rejections): the ingest counts every rejection.
    """

    RAW_PAYLOAD_LIMIT = rejections.RAW_PAYLOAD_LIMIT

    topic = models.CharField(max_length=300)
    device_id = models.CharField(
        max_length=64, null=True, blank=True, help_text="The device id of the topic; empty when the topic has none."
    )
    payload = models.TextField(
        help_text="The raw payload's first 4 KiB as at most 4,096 characters, undecodable bytes and NUL escaped."
    )
    reason = models.CharField(max_length=300)
    digest = models.CharField(
        max_length=64, unique=True, help_text="sha256 of the topic and the whole raw payload: a redelivery's key."
    )
    received_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            # A device's rejections, newest first.
            models.Index(fields=["device_id", "received_at"], name="rejected_device_received"),
            # The admin's reason filter lists the distinct reasons from this index alone.
            models.Index(fields=["reason"], name="rejected_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.topic}: {self.reason}"


class DeviceMinute(models.Model):
    """One device's readings of one minute (by ts), summed: the rolling averages read these, not readings."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+", db_index=False)
    minute = models.DateTimeField()
    count = models.IntegerField(default=0)
    temperature_count = models.IntegerField(default=0)
    temperature_sum = models.FloatField(default=0.0)
    humidity_count = models.IntegerField(default=0)
    humidity_sum = models.FloatField(default=0.0)

    class Meta:
        constraints = [
            # The upsert's key; its index also serves a page of devices in id order over a window.
            models.UniqueConstraint(fields=["device", "minute"], name="device_minute_unique"),
        ]
        indexes = [models.Index(fields=["minute"], name="device_minute_minute")]  # the prune


class FleetMinute(models.Model):
    """How many readings the fleet stored in one minute (by receive time): the ingest rate."""

    minute = models.DateTimeField(primary_key=True)
    stored = models.IntegerField(default=0)
