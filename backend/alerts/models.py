"""Alerts raised by the worker, and the state the worker keeps to raise each one once."""
from django.db import models

from devices.models import Device


class Alert(models.Model):
    """One raised alert; `ts` is when it was raised, `payload` says what triggered it."""

    class Type(models.TextChoices):
        HIGH_TEMP = "HIGH_TEMP"
        OFFLINE = "OFFLINE"
        ONLINE = "ONLINE"

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="alerts")
    alert_type = models.CharField(max_length=16, choices=Type.choices)
    ts = models.DateTimeField()
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-ts", "-id"]
        indexes = [
            models.Index(fields=["-ts", "-id"], name="alert_newest"),
            models.Index(fields=["device", "-ts"], name="alert_device_newest"),
            models.Index(fields=["alert_type", "-ts"], name="alert_type_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.alert_type} {self.device_id} @ {self.ts:%Y-%m-%d %H:%M:%S}"


class DeviceAlertState(models.Model):
    """What the worker remembers about one device between passes.

    `hot`: a HIGH_TEMP episode is open (set by the alert, cleared by a reading at or
    below the threshold). `offline_since` / `offline_last_seen`: when the worker marked
    the device OFFLINE and the last_seen it had then; a last_seen beyond that value
    means the device has sent again.
    """

    device = models.OneToOneField(
        Device, primary_key=True, on_delete=models.CASCADE, related_name="alert_state"
    )
    hot = models.BooleanField(default=False)
    offline_since = models.DateTimeField(null=True, blank=True)
    offline_last_seen = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # Each HIGH_TEMP pass loads the hot devices; usually few of many.
            models.Index(fields=["device"], condition=models.Q(hot=True), name="alert_state_hot"),
        ]

    def __str__(self) -> str:
        return f"{self.device_id}: hot={self.hot} offline_since={self.offline_since}"


class ReadingWatermark(models.Model):
    """How far the HIGH_TEMP evaluation has read the telemetry table (one row).

    Every reading with id <= `position` has been evaluated, except the ids listed in
    `gaps` (ranges not yet visible when the pass read past them; see docs/alerts.md).
    `version` makes advancing it a compare-and-set.
    """

    name = models.CharField(primary_key=True, max_length=32)
    position = models.BigIntegerField(default=0)
    gaps = models.JSONField(default=list, blank=True)
    version = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.position} ({len(self.gaps)} open gaps)"
