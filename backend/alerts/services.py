"""Writes of the alerts app: one evaluation pass raises and clears every kind of alert.

Each step reads what it needs, asks alerts.rules what to do, and writes the state change
and its alerts in one transaction guarded by a compare-and-set, so that two workers, a
crash between steps or a re-run never raise an alert twice or lose one. Every such
transaction reports what it raised and cleared to `_alerts_changed`.
"""
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Min, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.dispatch import Signal
from django.utils import timezone

from alerts import rules
from alerts.alert_log import log_alerts
from alerts.high_temp import high_temp_evaluate
from alerts.lifecycle import alerts_clear, alerts_raise
from alerts.models import Alert, AlertRule, DeviceAlertState, HeardWatermark
from alerts.state_rows import ensure_states
from alerts.status_flip import devices_flip_status
from alerts.thresholds import DEFAULT, DEVICE, DEVICE_TYPE, FIELDS, RuleBook, rule_book_load
from alerts.watermark import heard_until_next
from devices.models import Device

DEVICES_PER_STATEMENT = 1000
HIGH_TEMP_BUDGET_SECONDS = 0.5
MAX_DEVICE_ROUNDS = 50
HEARD_WATERMARK_NAME = "online"
# How long after receiving a batch the ingest may commit it and still be found by the
# ONLINE step's watermark: its batches wait 50 ms, then for SQLite's write lock (tens of
# ms between the worker's statements). One committed later is found by the full scan.
HEARD_OVERLAP = timedelta(seconds=10)
# Every OFFLINE device is compared this often: late batches, devices set OFFLINE by hand.
HEARD_FULL_SCAN_EVERY = timedelta(seconds=60)
# The watermark is written when it has moved this far (or after a full scan): a quiet
# pass then writes nothing, at the cost of reading a few seconds more of the index.
HEARD_ADVANCE_STEP = timedelta(seconds=5)

# Sent with `raised` and `cleared` (lists of Alert) inside the transaction that wrote them.
alerts_changed = Signal()


def _alerts_changed(*, raised: list[Alert], cleared: list[Alert]) -> None:
    """The alerts one transaction raised (some born CLEARED) and cleared; called inside it.

    The one place where every raised and cleared alert of a pass is known, in the
    transaction that writes it. Receivers of `alerts_changed` (the notifications app)
    run inside it, so what they write commits or rolls back with the alerts.
    """
    if raised or cleared:
        alerts_changed.send(sender=Alert, raised=raised, cleared=cleared)


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
    low_battery: int = 0
    anomaly: int = 0


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


def devices_mark_offline(
    *, now: datetime, offline_after: float, limit: int = DEVICES_PER_STATEMENT, where: Q | None = None,
    source: str = DEFAULT,
) -> DeviceStep:
    """Mark ONLINE devices silent for more than `offline_after` s OFFLINE, one alert each.

    `where` narrows the devices this limit applies to (a type's or some devices' own limit).
    """
    deadline = rules.offline_deadline(now=now, offline_after=offline_after)
    # Served by the (status, last_seen) index; `where` only filters the rows it finds.
    silent = Device.objects.filter(status=Device.Status.ONLINE, last_seen__lt=deadline)
    if where is not None:
        silent = silent.filter(where)
    if not silent.exists():
        return DeviceStep(examined=0, alerts=0)  # the usual case, without taking SQLite's write lock
    with transaction.atomic():
        due = devices_flip_status(silent.order_by("last_seen"), old=Device.Status.ONLINE, new=Device.Status.OFFLINE,
                                  limit=limit)
        if not due:
            return DeviceStep(examined=0, alerts=0)
        ids = [pk for pk, _ in due]
        # A device set ONLINE by hand still has its OFFLINE alert ACTIVE: the new one supersedes it.
        cleared = alerts_clear(ids, Alert.Type.OFFLINE, now=now)
        raised = alerts_raise(Alert.Type.OFFLINE, ts=now, payloads=[
            (pk, rules.offline_payload(last_seen=seen, offline_after=offline_after, source=source)) for pk, seen in due
        ])
        _record_offline(ids, since=now)
        _alerts_changed(raised=raised, cleared=cleared)
    log_alerts("OFFLINE", [(pk, f"last seen {seen.isoformat()}") for pk, seen in due])
    return DeviceStep(examined=len(due), alerts=len(due))


def devices_mark_link_offline(*, now: datetime, limit: int = DEVICES_PER_STATEMENT) -> DeviceStep:
    """Mark ONLINE devices whose last word on their status topic is `offline` (their will) OFFLINE.

    Whatever the silence allowed: the broker published the will because the connection
    dropped. An `offline` older than the device's last reading is past news and ignored.
    """
    gone = Device.objects.filter(
        link_state=Device.LinkState.OFFLINE, status=Device.Status.ONLINE, last_seen__lte=F("link_changed_at")
    )
    if not gone.exists():
        return DeviceStep(examined=0, alerts=0)
    with transaction.atomic():
        due = devices_flip_status(gone.order_by(), old=Device.Status.ONLINE, new=Device.Status.OFFLINE, limit=limit,
                                  columns=("last_seen", "link_changed_at"))
        if not due:
            return DeviceStep(examined=0, alerts=0)
        ids = [pk for pk, _, _ in due]
        cleared = alerts_clear(ids, Alert.Type.OFFLINE, now=now)
        raised = alerts_raise(Alert.Type.OFFLINE, ts=now, payloads=[
            (pk, rules.will_offline_payload(last_seen=seen, since=since)) for pk, seen, since in due
        ])
        _record_offline(ids, since=now)
        _alerts_changed(raised=raised, cleared=cleared)
    log_alerts("OFFLINE", [(pk, f"will published at {since.isoformat()}") for pk, _, since in due])
    return DeviceStep(examined=len(due), alerts=len(due))


def _heard_again(heard_after: datetime | None) -> QuerySet:
    """OFFLINE devices that have sent since they went OFFLINE, or were set OFFLINE without a recorded transition.

    With `heard_after`, only those whose last_seen is past it: a range of the (status,
    last_seen) index, the only rows read. Without it, every OFFLINE device is compared.
    """
    offline = Device.objects.filter(status=Device.Status.OFFLINE)
    if heard_after is not None:
        offline = offline.filter(last_seen__gt=heard_after)
    return offline.filter(
        Q(alert_state__offline_since__isnull=True) | Q(last_seen__gt=F("alert_state__offline_last_seen"))
    )


def devices_mark_online(
    *, now: datetime, limit: int = DEVICES_PER_STATEMENT, heard_after: datetime | None = None
) -> DeviceStep:
    """Mark OFFLINE devices that have sent since they went OFFLINE ONLINE, one alert each.

    An OFFLINE device without a recorded transition (e.g. set OFFLINE in the admin) is
    adopted: its current last_seen becomes the reference its next reading must pass.
    `heard_after` limits the step to devices heard after it (devices_mark_heard_online).
    """
    changed = _heard_again(heard_after)
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
            cleared = alerts_clear(ids, Alert.Type.OFFLINE, now=now)
            # ONLINE reports the end of an OFFLINE; nothing is left to act on, so it is born CLEARED.
            raised = alerts_raise(Alert.Type.ONLINE, ts=now, cleared=True, payloads=[
                (pk, rules.online_payload(offline_since=since)) for pk, since in back
            ])
            DeviceAlertState.objects.filter(pk__in=ids).update(offline_since=None, offline_last_seen=None)
            _alerts_changed(raised=raised, cleared=cleared)
        if adopted:
            _record_offline(adopted, since=now)
    log_alerts("ONLINE", [(pk, f"offline since {since.isoformat()}") for pk, since in back])
    return DeviceStep(examined=len(rows), alerts=len(back))


def _oldest_due(heard_after: datetime | None) -> datetime | None:
    return _heard_again(heard_after).aggregate(oldest=Min("last_seen"))["oldest"]


def devices_mark_heard_online(*, now: datetime | None = None) -> int:
    """The ONLINE step of a pass: the OFFLINE devices heard since the watermark, or all of them
    when a full scan is due; the alerts raised.

    The watermark moves only after the flips it covers have committed, and stays below
    any device still due then, so a second worker, or one killed mid-step whose
    transaction rolled back, leaves nothing behind it (alerts.watermark.heard_until_next).
    """
    scan_started = now or timezone.now()
    mark = HeardWatermark.objects.filter(pk=HEARD_WATERMARK_NAME).first()
    full = mark is None or scan_started - mark.full_scan_at >= HEARD_FULL_SCAN_EVERY
    heard_after = None if mark is None else mark.heard_until
    alerts = 0
    oldest_pending = _oldest_due(heard_after)
    if full or oldest_pending is not None:  # a quiet pass: this one read of the index, nothing else
        alerts = _repeat(lambda: devices_mark_online(now=now or timezone.now(),
                                                     heard_after=None if full else heard_after))
        oldest_pending = _oldest_due(heard_after)
    heard_until = heard_until_next(scan_started=scan_started, overlap=HEARD_OVERLAP, oldest_pending=oldest_pending)
    if mark is None:
        HeardWatermark.objects.bulk_create(
            [HeardWatermark(name=HEARD_WATERMARK_NAME, heard_until=heard_until, full_scan_at=scan_started)],
            ignore_conflicts=True,  # another worker's first pass wrote it meanwhile: the next pass moves it
        )
    elif full or heard_until - mark.heard_until >= HEARD_ADVANCE_STEP:
        # Only forward: each worker's value is safe on its own, so the later of two is too.
        HeardWatermark.objects.filter(pk=HEARD_WATERMARK_NAME).update(
            heard_until=Greatest(F("heard_until"), Value(heard_until)),
            full_scan_at=Greatest(F("full_scan_at"), Value(scan_started)) if full else F("full_scan_at"),
        )
    return alerts


def offline_groups(book: RuleBook) -> list[tuple[Q | None, float, str]]:
    """(which devices, silence allowed, source) for the OFFLINE step, one indexed query each.

    The default limit covers every device without a limit of its own or of its type;
    types sharing a limit are one group, so are devices sharing one.
    """
    name = "offline_after_seconds"
    own = book.devices_setting(name)
    typed = book.types_setting(name) - {None}
    default_group = ~Q(pk__in=sorted(own)) & ~Q(device_type__in=sorted(typed)) if own or typed else None
    groups: list[tuple[Q | None, float, str]] = [(default_group, book.defaults[name], DEFAULT)]
    by_value: dict[float, list[str]] = {}
    for device_type in sorted(typed):
        by_value.setdefault(book.by_type[device_type][name], []).append(device_type)
    for value, device_types in sorted(by_value.items()):
        groups.append((Q(device_type__in=device_types) & ~Q(pk__in=sorted(own)), value, DEVICE_TYPE))
    by_value = {}
    for device_id in sorted(own):
        by_value.setdefault(book.by_device[device_id][name], []).append(device_id)
    for value, device_ids in sorted(by_value.items()):
        groups.append((Q(pk__in=device_ids), value, DEVICE))
    return groups


def alerts_evaluate(*, threshold: float | None = None, offline_after: float | None = None) -> PassReport:
    """One evaluation pass: ONLINE, then OFFLINE, then the readings (catching up within a time budget).

    `threshold` and `offline_after` replace the environment's defaults; the rules of
    device types and devices (alerts.AlertRule, read at every pass) apply over them.
    """
    overrides = {}
    if threshold is not None:
        overrides["high_temp_threshold"] = threshold
    if offline_after is not None:
        overrides["offline_after_seconds"] = offline_after
    book = rule_book_load(**overrides)
    started = time.monotonic()
    online = devices_mark_heard_online()
    offline = _repeat(lambda: devices_mark_link_offline(now=timezone.now()))
    for where, limit, source in offline_groups(book):
        offline += _repeat(lambda where=where, limit=limit, source=source: devices_mark_offline(
            now=timezone.now(), offline_after=limit, where=where, source=source))
    high_temp = readings = low_battery = anomaly = 0
    while True:
        step = high_temp_evaluate(book=book, changed=_alerts_changed)
        high_temp += step.alerts
        low_battery += step.battery_alerts
        anomaly += step.anomaly_alerts
        readings += step.readings
        if not step.full or time.monotonic() - started > HIGH_TEMP_BUDGET_SECONDS:
            break
    return PassReport(offline=offline, online=online, high_temp=high_temp, readings=readings,
                      seconds=time.monotonic() - started, low_battery=low_battery, anomaly=anomaly)


def _repeat(step) -> int:
    """Run a device step until it finds less than a full statement's worth (bounded); its alerts."""
    alerts = 0
    for _ in range(MAX_DEVICE_ROUNDS):
        done = step()
        alerts += done.alerts
        if done.examined < DEVICES_PER_STATEMENT:
            break
    return alerts


def alert_acknowledge(*, alert_id: int, user) -> bool:
    """Record `user` as the acknowledger of this alert unless someone already is; False if there is no such alert.

    A compare-and-set: the first acknowledgement stays, however many follow or race it.
    """
    Alert.objects.filter(pk=alert_id, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=user
    )
    return Alert.objects.filter(pk=alert_id).exists()


def rule_put(*, values: dict, device_type: str | None = None, device_id: str | None = None) -> None:
    """Replace the rule of a device type or of a device; a field left out or null inherits."""

    scope = {"device_type": device_type} if device_id is None else {"device_id": device_id}
    AlertRule.objects.update_or_create(**scope, defaults={name: values.get(name) for name in FIELDS})


def rule_delete(*, device_type: str | None = None, device_id: str | None = None) -> None:
    """Remove the rule of a device type or of a device (everything inherits again)."""

    scope = {"device_type": device_type} if device_id is None else {"device_id": device_id}
    AlertRule.objects.filter(**scope).delete()
