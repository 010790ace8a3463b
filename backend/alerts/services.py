"""Writes of the alerts app: one evaluation pass raises HIGH_TEMP, OFFLINE and ONLINE alerts.

Each step reads what it needs, asks alerts.rules what to do, and writes the state change
and its alerts in one transaction guarded by a compare-and-set, so that two workers, a
crash between steps or a re-run never raise an alert twice or lose one.
"""
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from alerts import rules
from alerts.alert_log import log_alerts
from alerts.high_temp import high_temp_evaluate
from alerts.models import Alert, DeviceAlertState
from alerts.state_rows import ensure_states
from devices.models import Device

DEVICES_PER_STATEMENT = 1000
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


def _cas_status(device_ids: list[str], *, old: str, new: str) -> None:
    """UPDATE ... SET status = new WHERE status = old for rows this transaction has locked."""
    changed = Device.objects.filter(pk__in=device_ids, status=old).update(status=new)
    if changed != len(device_ids):
        raise TransitionConflict(f"{old}->{new}: {changed} of {len(device_ids)} devices changed")


def _record_offline(device_ids: list[str], *, since: datetime) -> None:
    """Remember when these devices went OFFLINE and their last_seen then (locked, so unchanged)."""
    ensure_states(device_ids)
    current_last_seen = Subquery(Device.objects.filter(pk=OuterRef("pk")).values("last_seen")[:1])
    DeviceAlertState.objects.filter(pk__in=device_ids).update(
        offline_since=since, offline_last_seen=Coalesce(current_last_seen, Value(rules.NEVER_SEEN))
    )


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
        _record_offline([pk for pk, _ in due], since=now)
    log_alerts("OFFLINE", [(pk, f"last seen {seen.isoformat()}") for pk, seen in due])
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
                adopted.append(pk)
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
            _record_offline(adopted, since=now)
    log_alerts("ONLINE", [(pk, f"offline since {since.isoformat()}") for pk, since in back])
    return DeviceStep(examined=len(rows), alerts=len(back))


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
