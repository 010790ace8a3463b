"""Alerts raised by the worker."""
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
