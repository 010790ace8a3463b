"""Writes of the alerts app: one evaluation pass raises HIGH_TEMP, OFFLINE and ONLINE alerts.

Each step reads what it needs, asks alerts.rules what to do, and writes the state change
and its alerts in one transaction guarded by a compare-and-set, so that two workers, a
crash between steps or a re-run never raise an alert twice or lose one.
"""
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from alerts import rules
from alerts.models import Alert, DeviceAlertState, ReadingWatermark
from alerts.watermark import Gap, Watermark, advance, transactions_in_progress
from devices.models import Device
from telemetry.models import Telemetry

log = logging.getLogger("alerts")

HIGH_TEMP_WATERMARK = "high_temp"
DEVICES_PER_STATEMENT = 1000
READINGS_PER_READ = 5000
MAX_OPEN_GAPS = 10_000
HIGH_TEMP_BUDGET_SECONDS = 0.5
MAX_DEVICE_ROUNDS = 50


class TransitionConflict(Exception):
    """A compare-and-set changed fewer rows than were locked for it; the transaction is undone."""


@dataclass(frozen=True, slots=True)
class PassReport:
    """What one evaluation pass did."""

    offline: int
    online: int
    high_temp: int
    readings: int
    seconds: float


@dataclass(frozen=True, slots=True)
class DeviceStep:
    examined: int  # devices this step locked and looked at (a full statement's worth: run it again)
    alerts: int


@dataclass(frozen=True, slots=True)
class HighTempStep:
    readings: int
    alerts: int
    full: bool  # it read as many readings as allowed: more may be waiting


def _cas_status(device_ids: list[str], *, old: str, new: str) -> None:
    """UPDATE ... SET status = new WHERE status = old for rows this transaction has locked."""
    changed = Device.objects.filter(pk__in=device_ids, status=old).update(status=new)
    if changed != len(device_ids):
        raise TransitionConflict(f"{old}->{new}: {changed} of {len(device_ids)} devices changed")


def devices_mark_offline(*, now: datetime, offline_after: float, limit: int = DEVICES_PER_STATEMENT) -> DeviceStep:
    """Mark ONLINE devices silent for more than `offline_after` s OFFLINE, one alert each."""
    deadline = rules.offline_deadline(now=now, offline_after=offline_after)
    # Served by the (status, last_seen) index.
    silent = Device.objects.filter(status=Device.Status.ONLINE, last_seen__lt=deadline)
    if not silent.exists():
        return DeviceStep(examined=0, alerts=0)  # the usual case, without taking SQLite's write lock
    with transaction.atomic():
        # The rows stay locked until commit (PostgreSQL; SQLite holds its write lock
        # from BEGIN), so the ingest cannot move last_seen between this read and the
        # update, and a second worker skips them instead of transitioning them again.
        due = list(
            silent.select_for_update(skip_locked=True).order_by("last_seen").values_list("pk", "last_seen")[:limit]
        )
        if not due:
            return DeviceStep(examined=0, alerts=0)
        _cas_status([pk for pk, _ in due], old=Device.Status.ONLINE, new=Device.Status.OFFLINE)
        Alert.objects.bulk_create(
            Alert(device_id=pk, alert_type=Alert.Type.OFFLINE, ts=now, payload=rules.offline_payload(last_seen=seen))
            for pk, seen in due
        )
        DeviceAlertState.objects.bulk_create(
            [DeviceAlertState(device_id=pk, offline_since=now, offline_last_seen=seen) for pk, seen in due],
            update_conflicts=True,
            unique_fields=["device"],
            update_fields=["offline_since", "offline_last_seen"],
        )
    for pk, seen in due:
        log.info("OFFLINE %s (last seen %s)", pk, seen.isoformat())
    return DeviceStep(examined=len(due), alerts=len(due))


def devices_mark_online(*, now: datetime, limit: int = DEVICES_PER_STATEMENT) -> DeviceStep:
    """Mark OFFLINE devices that have sent since they went OFFLINE ONLINE, one alert each.

    An OFFLINE device without a recorded transition (e.g. set OFFLINE in the admin) is
    adopted: its current last_seen becomes the reference its next reading must pass.
    """
    changed = Device.objects.filter(status=Device.Status.OFFLINE).filter(
        Q(alert_state__offline_since__isnull=True) | Q(last_seen__gt=F("alert_state__offline_last_seen"))
    )
    if not changed.exists():
        return DeviceStep(examined=0, alerts=0)
    with transaction.atomic():
        rows = list(
            changed.select_for_update(skip_locked=True, of=("self",))
            .order_by()
            .values_list("pk", "last_seen", "alert_state__offline_since", "alert_state__offline_last_seen")[:limit]
        )
        back, adopted = [], []
        for pk, last_seen, offline_since, offline_last_seen in rows:
            decision = rules.offline_device_decision(
                last_seen=last_seen, offline_since=offline_since, offline_last_seen=offline_last_seen
            )
            if decision is rules.OfflineDeviceDecision.ONLINE:
                back.append((pk, offline_since))
            elif decision is rules.OfflineDeviceDecision.ADOPT:
                adopted.append(DeviceAlertState(device_id=pk, offline_since=now,
                                                offline_last_seen=last_seen or rules.NEVER_SEEN))
        if back:
            ids = [pk for pk, _ in back]
            _cas_status(ids, old=Device.Status.OFFLINE, new=Device.Status.ONLINE)
            Alert.objects.bulk_create(
                Alert(device_id=pk, alert_type=Alert.Type.ONLINE, ts=now,
                      payload=rules.online_payload(offline_since=since))
                for pk, since in back
            )
            DeviceAlertState.objects.filter(pk__in=ids).update(offline_since=None, offline_last_seen=None)
        if adopted:
            DeviceAlertState.objects.bulk_create(
                adopted, update_conflicts=True, unique_fields=["device"],
                update_fields=["offline_since", "offline_last_seen"],
            )
    for pk, since in back:
        log.info("ONLINE %s (offline since %s)", pk, since.isoformat())
    return DeviceStep(examined=len(rows), alerts=len(back))


def _load_watermark() -> ReadingWatermark:
    state, _ = ReadingWatermark.objects.get_or_create(name=HIGH_TEMP_WATERMARK)
    return state


def _reading_values(queryset):
    return [
        rules.TemperatureReading(id=id_, device_id=device_id, ts=ts, temperature=temperature)
        for id_, device_id, ts, temperature in queryset.values_list("id", "device_id", "ts", "temperature")
    ]


def high_temp_evaluate(*, threshold: float, limit: int = READINGS_PER_READ) -> HighTempStep:
    """Evaluate the readings stored since the watermark; one HIGH_TEMP alert per hot episode.

    The reads happen outside any transaction (on SQLite that keeps the ingest's writer
    unblocked); the write transaction first advances the watermark with a
    compare-and-set on its version, so when two workers evaluate the same readings only
    one commits its alerts and hot flags, and the other's pass changes nothing.
    """
    state = _load_watermark()
    mark = Watermark(state.position, tuple(Gap.from_json(gap) for gap in state.gaps))
    in_progress_before = transactions_in_progress(connection)
    new = _reading_values(Telemetry.objects.filter(id__gt=mark.position).order_by("id")[:limit])
    refilled = []
    if mark.gaps:
        in_gaps = reduce(or_, (Q(id__range=(gap.lo, gap.hi)) for gap in mark.gaps))
        refilled = _reading_values(Telemetry.objects.filter(in_gaps))
    in_progress_after = transactions_in_progress(connection)
    step = advance(
        mark,
        new_ids=[reading.id for reading in new],
        gap_ids=[reading.id for reading in refilled],
        in_progress_before=in_progress_before,
        in_progress_after=in_progress_after,
        max_gaps=MAX_OPEN_GAPS,
    )
    if step.dropped_unsettled:
        log.warning("more than %d open gaps in telemetry ids; gave up waiting on the %d oldest",
                    MAX_OPEN_GAPS, step.dropped_unsettled)
    readings = new + refilled
    if step.watermark == mark and not readings:
        return HighTempStep(readings=0, alerts=0, full=False)

    hot = set(DeviceAlertState.objects.filter(hot=True).values_list("device_id", flat=True))
    outcome = rules.high_temp_episodes(readings, hot=hot, threshold=threshold)
    flips = {device_id: now_hot for device_id, now_hot in outcome.hot_after.items() if now_hot != (device_id in hot)}
    now = timezone.now()
    with transaction.atomic():
        won = ReadingWatermark.objects.filter(name=HIGH_TEMP_WATERMARK, version=state.version).update(
            position=step.watermark.position,
            gaps=[gap.to_json() for gap in step.watermark.gaps],
            version=F("version") + 1,
            updated_at=now,
        )
        if not won:
            log.debug("another worker evaluated readings after id %d first", mark.position)
            return HighTempStep(readings=0, alerts=0, full=False)
        Alert.objects.bulk_create(
            Alert(device_id=r.device_id, alert_type=Alert.Type.HIGH_TEMP, ts=now,
                  payload=rules.high_temp_payload(r, threshold=threshold))
            for r in outcome.alerts
        )
        if flips:
            DeviceAlertState.objects.bulk_create(
                [DeviceAlertState(device_id=device_id, hot=now_hot) for device_id, now_hot in flips.items()],
                update_conflicts=True,
                unique_fields=["device"],
                update_fields=["hot"],
            )
    for reading in outcome.alerts:
        log.info("HIGH_TEMP %s: %.2f > %.2f at %s", reading.device_id, reading.temperature, threshold,
                 reading.ts.isoformat())
    return HighTempStep(readings=len(readings), alerts=len(outcome.alerts), full=len(new) == limit)


def alerts_evaluate(*, threshold: float | None = None, offline_after: float | None = None) -> PassReport:
    """One evaluation pass: ONLINE, then OFFLINE, then HIGH_TEMP (catching up within a time budget)."""
    threshold = settings.HIGH_TEMP_THRESHOLD if threshold is None else threshold
    offline_after = settings.OFFLINE_AFTER_SECONDS if offline_after is None else offline_after
    started = time.monotonic()
    online = _repeat(lambda: devices_mark_online(now=timezone.now()))
    offline = _repeat(lambda: devices_mark_offline(now=timezone.now(), offline_after=offline_after))
    high_temp = readings = 0
    while True:
        step = high_temp_evaluate(threshold=threshold)
        high_temp += step.alerts
        readings += step.readings
        if not step.full or time.monotonic() - started > HIGH_TEMP_BUDGET_SECONDS:
            break
    return PassReport(offline=offline, online=online, high_temp=high_temp, readings=readings,
                      seconds=time.monotonic() - started)


def _repeat(step) -> int:
    """Run a device step until it finds less than a full statement's worth (bounded); its alerts."""
    alerts = 0
    for _ in range(MAX_DEVICE_ROUNDS):
        done = step()
        alerts += done.alerts
        if done.examined < DEVICES_PER_STATEMENT:
            break
    return alerts
