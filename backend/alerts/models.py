"""Alerts raised by the worker, the rules they follow, and the state kept to raise each one once."""
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from devices.models import Device


class Alert(models.Model):
    """One raised alert; `ts` is when it was raised, `payload` says what triggered it.

    An alert is ACTIVE until the condition ends (then CLEARED, with `cleared_at`); at
    most one alert per device and type is ACTIVE at any moment.
    """

    class Type(models.TextChoices):
        HIGH_TEMP = "HIGH_TEMP"
        OFFLINE = "OFFLINE"
        ONLINE = "ONLINE"
        LOW_BATTERY = "LOW_BATTERY"
        ANOMALY = "ANOMALY"

    class Severity(models.TextChoices):
        CRITICAL = "critical"
        WARNING = "warning"
        INFO = "info"

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE"
        CLEARED = "CLEARED"

    # No index of its own: alert_device_newest (device, -ts) serves every lookup by device.
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="alerts", db_index=False)
    alert_type = models.CharField(max_length=16, choices=Type.choices)
    ts = models.DateTimeField()
    payload = models.JSONField(default=dict, blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    status = models.CharField(max_length=7, choices=Status.choices, default=Status.ACTIVE)
    cleared_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False,
    )

    class Meta:
        ordering = ["-ts", "-id"]
        # Each index costs every INSERT of a wave of OFFLINE alerts (docs/performance.md).
        indexes = [
            # Deleting a user nulls its acknowledgements; an alert is born unacknowledged, so
            # a partial index is never written when alerts are raised.
            models.Index(fields=["acknowledged_by"], condition=models.Q(acknowledged_by__isnull=False),
                         name="alert_acknowledged_by"),
            models.Index(fields=["-ts", "-id"], name="alert_newest"),
            models.Index(fields=["device", "-ts"], name="alert_device_newest"),
            models.Index(fields=["alert_type", "-ts"], name="alert_type_newest"),
            # "What is going on now": the ACTIVE alerts, few of many.
            models.Index(fields=["-ts", "-id"], condition=models.Q(status="ACTIVE"), name="alert_active_newest"),
        ]
        constraints = [
            # With the steps' compare-and-set, this holds with any number of workers.
            models.UniqueConstraint(
                fields=["device", "alert_type"], condition=models.Q(status="ACTIVE"), name="alert_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.alert_type} {self.device_id} @ {self.ts:%Y-%m-%d %H:%M:%S}"


class DeviceAlertState(models.Model):
    """What the worker remembers about one device between passes.

    `hot`: a HIGH_TEMP episode is open (set by the alert, cleared by a reading at or
    below the threshold minus the hysteresis). `low_battery`: a LOW_BATTERY episode is
    open. `anomaly_*`: the ANOMALY rule's episode flag, its count of normal readings since
    the last anomalous one, and per metric the readings taken in and their exponentially
    weighted mean and variance (alerts.rules.AnomalyState). `offline_since`: when the worker marked the device
    OFFLINE (the last_seen it had then is the device's `offline_last_seen`).
    """

    device = models.OneToOneField(
        Device, primary_key=True, on_delete=models.CASCADE, related_name="alert_state"
    )
    hot = models.BooleanField(default=False)
    low_battery = models.BooleanField(default=False)
    anomaly_active = models.BooleanField(default=False)
    anomaly_normal_streak = models.IntegerField(default=0)
    anomaly_temperature_count = models.IntegerField(default=0)
    anomaly_temperature_mean = models.FloatField(default=0.0)
    anomaly_temperature_variance = models.FloatField(default=0.0)
    anomaly_humidity_count = models.IntegerField(default=0)
    anomaly_humidity_mean = models.FloatField(default=0.0)
    anomaly_humidity_variance = models.FloatField(default=0.0)
    offline_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # Each HIGH_TEMP pass loads the hot devices; usually few of many.
            models.Index(fields=["device"], condition=models.Q(hot=True), name="alert_state_hot"),
            models.Index(fields=["device"], condition=models.Q(low_battery=True), name="alert_state_low_battery"),
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


class AlertRule(models.Model):
    """Thresholds of one device type or one device; an empty field inherits.

    Precedence: the device's rule, then its type's, then the environment's default.
    """

    device_type = models.CharField(max_length=100, null=True, blank=True, unique=True)
    device = models.OneToOneField(
        Device, null=True, blank=True, on_delete=models.CASCADE, related_name="alert_rule"
    )
    high_temp_threshold = models.FloatField(null=True, blank=True, help_text="°C; a reading above it is high.")
    high_temp_hysteresis = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0)],
        help_text="°C; an episode ends at a reading at or below threshold minus this.",
    )
    offline_after_seconds = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.1)], help_text="Silence before OFFLINE."
    )
    low_battery_percent = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="A battery below it is low.",
    )
    low_battery_hysteresis = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0)],
        help_text="Points; an episode ends at a battery at or above the level plus this.",
    )
    anomaly_z = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.1)],
        help_text="Standard deviations from the recent mean that make a reading anomalous.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(device_type__isnull=True, device__isnull=False)
                | models.Q(device_type__isnull=False, device__isnull=True),
                name="alert_rule_one_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"device {self.device_id}" if self.device_id else f"type {self.device_type}"
