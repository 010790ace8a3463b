"""Writes of the telemetry app: storing a batch of validated messages."""
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q

from devices.models import Device
from telemetry.models import RejectedMessage, Telemetry
from telemetry.payload import Reading


@dataclass(frozen=True, slots=True)
class RejectedInput:
    """A refused message as it will be kept: topic, raw bytes, reason, receive time, MQTT DUP flag."""

    topic: str
    payload: bytes
    reason: str
    received_at: datetime
    redelivered: bool = False


@dataclass(frozen=True, slots=True)
class BatchResult:
    stored: int
    duplicates: int
    rejected: int


class _RowCounter:
    """Sums the rows that INSERT statements really wrote (conflicts ignored are not rows)."""

    def __init__(self) -> None:
        self.rows = 0

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        self.rows += max(context["cursor"].rowcount, 0)
        return result


def _printable_payload(payload: bytes) -> str:
    """The raw payload's first 4 KiB as text, with undecodable bytes and NUL escaped.

    PostgreSQL's text type cannot hold NUL: one such byte would fail the whole batch.
    """
    text = payload[: RejectedMessage.RAW_PAYLOAD_LIMIT].decode("utf-8", "backslashreplace")
    return text.replace("\x00", "\\x00")


def telemetry_store_batch(
    *,
    readings: list[tuple[Reading, datetime]],
    rejections: Iterable[RejectedInput],
    known_device_ids: set[str],
) -> BatchResult:
    """Store readings (each with its receive time) and rejections in one transaction.

    Unknown devices are created ONLINE; a reading already stored (same device and ts)
    is ignored and counted as a duplicate; each device's last_seen only moves forward.
    `known_device_ids` is a cache of devices that exist, extended once the batch commits.
    """
    rejected_rows = [
        RejectedMessage(
            topic=item.topic[:300],
            payload=_printable_payload(item.payload),
            reason=item.reason[:300],
            received_at=item.received_at,
        )
        for item in rejections
    ]
    last_seen = max((received_at for _, received_at in readings), default=None)
    device_ids = {reading.device_id for reading, _ in readings}
    new_device_ids = device_ids - known_device_ids
    # Built before the transaction: SQLite's write lock is held from BEGIN IMMEDIATE.
    reading_rows = [
        Telemetry(
            device_id=reading.device_id,
            ts=reading.ts,
            temperature=reading.temperature,
            humidity=reading.humidity,
            battery=reading.battery,
            extra=reading.extra,
            received_at=received_at,
        )
        for reading, received_at in readings
    ]
    counter = _RowCounter()

    with transaction.atomic():
        if new_device_ids:
            Device.objects.bulk_create(
                [Device(device_id=device_id, last_seen=last_seen) for device_id in sorted(new_device_ids)],
                ignore_conflicts=True,
            )
        if reading_rows:
            with connection.execute_wrapper(counter):
                Telemetry.objects.bulk_create(reading_rows, ignore_conflicts=True)
            Device.objects.filter(device_id__in=device_ids).filter(
                Q(last_seen__isnull=True) | Q(last_seen__lt=last_seen)
            ).update(last_seen=last_seen)
        if rejected_rows:
            RejectedMessage.objects.bulk_create(rejected_rows)
        transaction.on_commit(lambda: known_device_ids.update(new_device_ids))

    return BatchResult(
        stored=counter.rows,
        duplicates=len(readings) - counter.rows,
        rejected=len(rejected_rows),
    )
