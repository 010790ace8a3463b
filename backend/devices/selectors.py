"""Reads of the devices app: devices with their newest reading, one page at a time."""
from django.db.models import Count, Q, QuerySet

from common.keyset import PAGE_MAX_LIMIT, Page, page_of
from devices.models import Device

DEVICE_FIELDS = ("device_id", "status", "last_seen", "name", "device_type", "location", "metadata")
LATEST_FIELDS = ("ts", "temperature", "humidity", "battery")


def _rows_with_latest(devices: QuerySet[Device]) -> list[dict]:
    """Device rows with `latest` (the device's newest reading, or None), from the device row alone."""
    rows = list(devices.values(*DEVICE_FIELDS, *(f"latest_{name}" for name in LATEST_FIELDS)))
    for row in rows:
        latest = {name: row.pop(f"latest_{name}") for name in LATEST_FIELDS}
        row["latest"] = latest if latest["ts"] is not None else None
    return rows


def _active_devices() -> QuerySet[Device]:
    return Device.objects.filter(decommissioned_at__isnull=True)


def devices_filtered(*, after: str | None = None, status: str | None = None, device_type: str | None = None,
                     location: str | None = None, search: str | None = None) -> QuerySet[Device]:
    """The devices not decommissioned that the device list's filters let through, after `after`, by device_id.

    Filters: exact status, type and location; `search` a prefix of the id or the name.
    The one definition of a device list page's devices: the fleet stats page over the same.
    """
    filters = {"status": status, "device_type": device_type, "location": location}
    devices = _active_devices().filter(**{name: value for name, value in filters.items() if value is not None})
    if search:
        devices = devices.filter(Q(device_id__startswith=search) | Q(name__startswith=search))
    if after is not None:
        devices = devices.filter(device_id__gt=after)
    return devices.order_by("device_id")


def device_page(*, limit: int = PAGE_MAX_LIMIT, after: str | None = None, **filters) -> Page:
    """Up to `limit` devices of devices_filtered(`filters`) after `after`, with `latest`.

    Keyset paging on the primary key: a page costs the same however deep it is.
    """
    rows = _rows_with_latest(devices_filtered(after=after, **filters)[: limit + 1])
    return page_of(rows, limit=limit, key=lambda row: row["device_id"])


def device_id_page(*, limit: int = PAGE_MAX_LIMIT, after: str | None = None, **filters) -> Page:
    """The ids of the devices device_page(`limit`, `after`, `filters`) lists, and the same next cursor."""
    ids = list(devices_filtered(after=after, **filters).values_list("device_id", flat=True)[: limit + 1])
    return page_of(ids, limit=limit, key=lambda device_id: device_id)


def device_get(*, device_id: str) -> dict | None:
    """One device with `latest`, or None when it does not exist or is decommissioned."""
    rows = _rows_with_latest(_active_devices().filter(pk=device_id))
    return rows[0] if rows else None


def device_counts() -> dict[str, int]:
    """How many devices are registered (not decommissioned), ONLINE and OFFLINE, in one query."""
    return _active_devices().aggregate(
        devices=Count("pk"),
        online=Count("pk", filter=Q(status=Device.Status.ONLINE)),
        offline=Count("pk", filter=Q(status=Device.Status.OFFLINE)),
    )


def device_for_key(*, device_id: str) -> Device | None:
    """The device an HTTP reading names, decommissioned or not, with only what authentication needs."""
    return Device.objects.filter(pk=device_id).only("device_id", "key_hash", "decommissioned_at").first()


def device_id_holding_key(*, key_hash: str) -> str | None:
    """The id of the device whose key has this hash, or None."""
    return Device.objects.filter(key_hash=key_hash).exclude(key_hash="").values_list("pk", flat=True).first()


def device_exists(*, device_id: str) -> bool:
    """Whether readings of this id can exist: decommissioned devices keep their history readable."""
    return Device.objects.filter(pk=device_id).exists()
