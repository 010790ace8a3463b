"""The device registry: one row per device registered through the API or seen sending."""
from django.db import models

from devices.ids import DEVICE_ID_MAX_LENGTH, validate_device_id


# An OFFLINE device that has sent since the worker recorded it OFFLINE, or has no record.
HEARD_AGAIN = models.Q(status="OFFLINE") & (
    models.Q(offline_last_seen__isnull=True) | models.Q(last_seen__gt=models.F("offline_last_seen"))
)


class Device(models.Model):
    """A device, keyed by the id it publishes under (devices/{device_id}/telemetry)."""

    class Status(models.TextChoices):
        ONLINE = "ONLINE"
        OFFLINE = "OFFLINE"

    class LinkState(models.TextChoices):
        """What the device last said on devices/{id}/status (its own `online` or its will's `offline`)."""

        UNKNOWN = "", "unknown"
        ONLINE = "online"
        OFFLINE = "offline"

    device_id = models.CharField(
        primary_key=True, max_length=DEVICE_ID_MAX_LENGTH, validators=[validate_device_id]
    )
    name = models.CharField(max_length=200, blank=True, default="")
    device_type = models.CharField(max_length=100, blank=True, default="")
    location = models.CharField(max_length=200, blank=True, default="")
    metadata = models.JSONField(blank=True, default=dict)
    status = models.CharField(max_length=7, choices=Status.choices, default=Status.ONLINE)
    last_seen = models.DateTimeField(null=True, blank=True)
    link_state = models.CharField(max_length=7, choices=LinkState.choices, blank=True, default=LinkState.UNKNOWN,
                                  db_default=LinkState.UNKNOWN)
    # When the ingest received that status: compared with last_seen, so an old `offline` loses to newer readings.
    link_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # HMAC-SHA256 of the device's API key (devices.keys); empty for a device that has none.
    key_hash = models.CharField(max_length=64, blank=True, default="", db_default="", editable=False)
    # The key's first characters, enough to tell two keys apart in the admin, never to use one.
    key_prefix = models.CharField(max_length=8, blank=True, default="", db_default="", editable=False)
    # Set by DELETE /api/devices/{id}/: hidden from the API, its readings refused, its history kept.
    decommissioned_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The reading with the newest ts, kept by the ingest in each batch's transaction, so
    # that lists and rules never look for it among the readings.
    latest_ts = models.DateTimeField(null=True, blank=True, editable=False)
    latest_temperature = models.FloatField(null=True, blank=True, editable=False)
    latest_humidity = models.FloatField(null=True, blank=True, editable=False)
    latest_battery = models.FloatField(null=True, blank=True, editable=False)
    # Kept by the alert worker: the last_seen an OFFLINE device had when the worker marked
    # it OFFLINE (or adopted it, set OFFLINE by hand); empty while none is recorded. A
    # last_seen beyond it means the device has sent again.
    offline_last_seen = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["device_id"]
        indexes = [
            # Serves the worker's deadline query: status = X and last_seen < deadline.
            models.Index(fields=["status", "last_seen"], name="device_status_last_seen"),
            # Tells a key of another device (403) from a wrong key (401) in one lookup.
            models.Index(fields=["key_hash"], name="device_key_hash", condition=~models.Q(key_hash="")),
            # Serves the worker's will query: link_state = 'offline' and status = 'ONLINE'.
            models.Index(fields=["link_state", "status"], name="device_link_state_status"),
            # Holds exactly the devices the worker's ONLINE step has to act on: OFFLINE ones
            # heard since they went OFFLINE, or with no transition recorded. A quiet pass reads
            # it empty, whatever the fleet's size; an ONLINE device's update never writes it.
            # On `status`, so that SQLite's planner, which has no statistics, takes its
            # `status = ?` here rather than on device_status_last_seen.
            models.Index(fields=["status"], name="device_heard_again", condition=HEARD_AGAIN),
            # Serves the device list's name-prefix search (`search=`): LIKE 'x%' on PostgreSQL
            # needs the pattern operator class unless the database collation is C.
            models.Index(fields=["name"], name="device_name_prefix", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return self.device_id
