"""Writes of the telemetry app: storing a batch of validated messages."""
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, CharField, Count, DateTimeField, Q, Value, When
from django.db.models.functions import TruncHour

from devices.models import Device
from telemetry.link_status import ONLINE, LinkReport
from telemetry.models import RejectedMessage, Telemetry
from telemetry.payload import Reading, device_id_from_topic
from telemetry.rejections import (
    Candidate,
    SampleLimits,
    SamplePlan,
    hour_of,
    rejection_digest,
    rejection_text,
    sample_plan,
    stored_counts,
)

# Serializes the rejection sampling of concurrent batches on PostgreSQL ("reject").
_REJECTIONS_LOCK_KEY = 0x72656A656374
# Serializes concurrent batches' updates of the devices' newest values on PostgreSQL ("heard").
_DEVICES_HEARD_LOCK_KEY = 0x6865617264
_HOUR = timedelta(hours=1)

UNKNOWN_DEVICE = "unknown device"
DECOMMISSIONED = "decommissioned"


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
    # Counted in `rejected` but not stored: beyond the hourly sample, or the same bytes again.
    rejections_not_kept: int = 0
    # Redelivered rejections already stored: neither stored nor counted again.
    rejection_redeliveries: int = 0
    # Devices whose readings were all rejected, with the reason (see _refused_devices).
    refused_devices: dict[str, str] = field(default_factory=dict)
    # Status messages (telemetry.link_status) taken into the devices' link state.
    statuses: int = 0


class _RowCounter:
    """Sums the rows that INSERT statements really wrote (conflicts ignored are not rows)."""

    def __init__(self) -> None:
        self.rows = 0

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        self.rows += max(context["cursor"].rowcount, 0)
        return result


def _sample_limits() -> SampleLimits:
    return SampleLimits(per_device=settings.REJECTIONS_SAMPLE_PER_DEVICE,
                        per_hour=settings.REJECTIONS_SAMPLE_PER_HOUR)


def _rejections_store(candidates: list[Candidate], rows: list[RejectedMessage]) -> SamplePlan:
    """Store the sample of a batch's rejections; runs inside the batch's transaction.

    The decision reads only the database, so every ingest process shares the bounds and
    a restart keeps them. On PostgreSQL an advisory lock makes concurrent batches decide
    one after the other; on SQLite the IMMEDIATE transaction already does.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_REJECTIONS_LOCK_KEY])
    digests = {candidate.digest for candidate in candidates}
    stored_digests = set(RejectedMessage.objects.filter(digest__in=digests).values_list("digest", flat=True))
    hours = [hour_of(candidate.received_at) for candidate in candidates]
    # One grouped query over the batch's hours on the received_at index; it reads at most
    # the hourly bound of rows per hour, since no more are ever stored.
    groups = (
        RejectedMessage.objects.filter(received_at__gte=min(hours), received_at__lt=max(hours) + _HOUR)
        .values_list(TruncHour("received_at"), "device_id", "reason")
        .annotate(count=Count("id"))
        .order_by()
    )
    plan = sample_plan(candidates, stored_digests=stored_digests, counts=stored_counts(groups),
                       limits=_sample_limits())
    if plan.keep:
        RejectedMessage.objects.bulk_create([rows[index] for index in plan.keep], ignore_conflicts=True)
    return plan


def _reading_payload(reading: Reading) -> bytes:
    """A refused reading as JSON, for its rejection row: the same reading gives the same bytes."""
    return orjson.dumps({
        "deviceId": reading.device_id,
        "ts": round(reading.ts.timestamp() * 1000),
        "temperature": reading.temperature,
        "humidity": reading.humidity,
        "battery": reading.battery,
        **(reading.extra or {}),
    })


def _refused_devices(device_ids: set[str]) -> tuple[dict[str, str], set[str]]:
    """Which devices may not store readings, with the reason, and which exist; one query.

    A decommissioned device is refused; an unknown one too unless AUTO_REGISTER_DEVICES.
    Read from the database on every batch, so a decommission applies to the next batch
    of every ingest process and web worker.
    """
    rows = Device.objects.filter(device_id__in=device_ids).values_list("device_id", "decommissioned_at")
    existing = {device_id: decommissioned_at for device_id, decommissioned_at in rows}
    refused = {device_id: DECOMMISSIONED for device_id, at in existing.items() if at is not None}
    if not settings.AUTO_REGISTER_DEVICES:
        refused.update((device_id, UNKNOWN_DEVICE) for device_id in device_ids - existing.keys())
    return refused, set(existing)


def telemetry_store_batch(
    *,
    readings: list[tuple[Reading, datetime]],
    rejections: Iterable[RejectedInput],
    known_device_ids: set[str],
    links: Iterable[tuple[LinkReport, datetime]] = (),
) -> BatchResult:
    """Store readings (each with its receive time) and rejections in one transaction.

    Unknown devices are created ONLINE (or, without AUTO_REGISTER_DEVICES, their readings
    are rejected as "unknown device"); a decommissioned device's readings are rejected as
    "decommissioned". A reading already stored (same device and ts)
    is ignored and counted as a duplicate; each device's last_seen only moves forward.
    `known_device_ids` gains the devices the batch created once it commits (the database,
    read once per batch, decides which exist).
    Rejections are counted and only a sample of them stored (telemetry.rejections); a
    redelivered rejection that is already stored is neither stored nor counted again.
    `links` (each status report with its receive time) set the devices' link state; an
    `online` also counts as being heard (last_seen) and creates an unknown device.
    """
    rejections = list(rejections)
    links = list(links)
    latest_links = {report.device_id: (report.state, received_at) for report, received_at in links}
    asked = {reading.device_id for reading, _ in readings} | latest_links.keys()
    refused, existing = _refused_devices(asked) if asked else ({}, set())
    if refused:
        rejections += [
            RejectedInput(topic=f"devices/{reading.device_id}/telemetry", payload=_reading_payload(reading),
                          reason=refused[reading.device_id], received_at=received_at)
            for reading, received_at in readings
            if reading.device_id in refused
        ]
        readings = [(reading, received_at) for reading, received_at in readings if reading.device_id not in refused]
        # A refused device's status is dropped with its readings: it must not come back ONLINE.
        latest_links = {device_id: link for device_id, link in latest_links.items() if device_id not in refused}
    candidates = [
        Candidate(
            digest=rejection_digest(item.topic, item.payload),
            device_id=device_id_from_topic(item.topic),
            reason=item.reason[:300],
            received_at=item.received_at,
            redelivered=item.redelivered,
        )
        for item in rejections
    ]
    rejected_rows = [
        RejectedMessage(
            topic=item.topic[:300],
            device_id=candidate.device_id,
            payload=rejection_text(item.payload),
            reason=candidate.reason,
            digest=candidate.digest,
            received_at=item.received_at,
        )
        for item, candidate in zip(rejections, candidates, strict=True)
    ]
    last_seen = max((received_at for _, received_at in readings), default=None)
    device_ids = {reading.device_id for reading, _ in readings}
    heard = {device_id: at for device_id, (state, at) in latest_links.items() if state == ONLINE}
    # The database, just read, says which exist; the cache is only kept up to date.
    new_device_ids = (device_ids | heard.keys()) - existing
    # Built before the transaction: SQLite's write lock is held from BEGIN IMMEDIATE.
    reading_rows = [_telemetry_row(reading, received_at) for reading, received_at in readings]
    counter = _RowCounter()

    with transaction.atomic():
        if new_device_ids:
            Device.objects.bulk_create(
                [Device(device_id=device_id, last_seen=last_seen or heard[device_id])
                 for device_id in sorted(new_device_ids)],
                ignore_conflicts=True,
            )
        if reading_rows:
            with connection.execute_wrapper(counter):
                Telemetry.objects.bulk_create(reading_rows, ignore_conflicts=True)
            devices_heard(readings=[reading for reading, _ in readings], last_seen=last_seen)
        if latest_links:
            _links_store(latest_links, heard)
        # Last, so that the PostgreSQL lock it takes is held only until the commit.
        plan = _rejections_store(candidates, rejected_rows) if candidates else SamplePlan()
        transaction.on_commit(lambda: known_device_ids.update(new_device_ids))

    return BatchResult(
        stored=counter.rows,
        duplicates=len(readings) - counter.rows,
        rejected=plan.rejected,
        rejections_not_kept=plan.not_kept,
        rejection_redeliveries=plan.redeliveries,
        refused_devices=refused,
        statuses=len(links),
    )


def _telemetry_row(reading: Reading, received_at: datetime) -> Telemetry:
    """A reading's unsaved row. The values go by position, in the model's field order (id first),
    as Django builds instances read from the database: about half the cost of keywords, paid
    for every reading (test_reading_rows holds the order to the model)."""
    return Telemetry(None, reading.device_id, reading.ts, reading.temperature, reading.humidity, reading.battery,
                     reading.extra, received_at)


def _newest_readings(readings: Iterable[Reading]) -> list[Reading]:
    """Each device's reading with the newest ts, in device order; of equal ts the first (the one stored)."""
    newest: dict[str, Reading] = {}
    for reading in readings:
        held = newest.get(reading.device_id)
        if held is None or reading.ts > held.ts:
            newest[reading.device_id] = reading
    return [newest[device_id] for device_id in sorted(newest)]


_LATEST_COLUMNS = ("latest_ts", "latest_temperature", "latest_humidity", "latest_battery")


def devices_heard(*, readings: Iterable[Reading], last_seen: datetime | None = None) -> None:
    """Move each device's last_seen forward to `last_seen`, and its latest_* to its newest of these
    readings unless it holds a newer one; each device row written once.

    The condition on latest_ts makes an older batch arriving late (another ingest
    process, a redelivery) leave a newer value alone. PostgreSQL gets one UPDATE ... FROM
    unnest(arrays) for the batch; SQLite one executemany of a one-row UPDATE. Measured
    on 500-device batches, a VALUES list cost PostgreSQL 18 ms of planning a batch, and
    SQLite runs its cached one-row statement faster than any multi-row form.
    """
    newest = _newest_readings(readings)
    if not newest:
        return
    table = connection.ops.quote_name(Device._meta.db_table)
    seen = connection.ops.adapt_datetimefield_value(last_seen)
    newer = "(d.latest_ts IS NULL OR d.latest_ts < v.ts)"
    assignments = [f"{column} = CASE WHEN {newer} THEN v.{column.removeprefix('latest_')} ELSE d.{column} END"
                   for column in _LATEST_COLUMNS]
    assignments.append("last_seen = CASE WHEN d.last_seen IS NULL OR d.last_seen < %(seen)s THEN %(seen)s"
                       " ELSE d.last_seen END")
    where = f"({newer} OR d.last_seen IS NULL OR d.last_seen < %(seen)s)"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Batches of other writers and ingest processes update the same devices, and an
            # UPDATE ... FROM locks its rows in whatever order its plan visits them: two of them
            # could deadlock. One lock held from here to the commit orders them; the readings'
            # INSERTs before it still run side by side.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_DEVICES_HEARD_LOCK_KEY])
            cursor.execute(
                f"UPDATE {table} AS d SET {', '.join(assignments)} FROM unnest(%(ids)s::text[],"
                " %(ts)s::timestamptz[], %(temperature)s::float8[], %(humidity)s::float8[], %(battery)s::float8[])"
                f" AS v(device_id, ts, temperature, humidity, battery) WHERE d.device_id = v.device_id AND {where}",
                {"seen": seen, "ids": [r.device_id for r in newest], "ts": [r.ts for r in newest],
                 "temperature": [r.temperature for r in newest], "humidity": [r.humidity for r in newest],
                 "battery": [r.battery for r in newest]},
            )
            return
        # SQLite: the same statement for one device, its values named as the unnest's columns.
        one = (f"UPDATE {table} AS d SET {', '.join(assignments)}"
               f" FROM (SELECT %(ts)s AS ts, %(temperature)s AS temperature, %(humidity)s AS humidity,"
               f" %(battery)s AS battery) AS v WHERE d.device_id = %(id)s AND {where}")
        cursor.executemany(one, [
            {"seen": seen, "id": r.device_id, "ts": connection.ops.adapt_datetimefield_value(r.ts),
             "temperature": r.temperature, "humidity": r.humidity, "battery": r.battery}
            for r in newest
        ])


def _links_store(latest: dict[str, tuple[str, datetime]], heard: dict[str, datetime]) -> None:
    """Each device's newest status of the batch, never replacing a newer one; `online` moves last_seen."""
    state = Case(*(When(pk=pk, then=Value(value)) for pk, (value, _) in latest.items()), output_field=CharField())
    changed_at = Case(*(When(pk=pk, then=Value(at)) for pk, (_, at) in latest.items()), output_field=DateTimeField())
    Device.objects.filter(pk__in=list(latest)).filter(
        Q(link_changed_at__isnull=True) | Q(link_changed_at__lt=changed_at)
    ).update(link_state=state, link_changed_at=changed_at)
    if heard:
        heard_at = Case(*(When(pk=pk, then=Value(at)) for pk, at in heard.items()), output_field=DateTimeField())
        Device.objects.filter(pk__in=list(heard)).filter(
            Q(last_seen__isnull=True) | Q(last_seen__lt=heard_at)
        ).update(last_seen=heard_at)
