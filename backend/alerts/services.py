"""Writes of the alerts app: one evaluation pass raises and clears every kind of alert.

Each step reads what it needs, asks alerts.rules what to do, and writes the state change
and its alerts in one transaction guarded by a compare-and-set, so that two workers, a
crash between steps or a re-run never raise an alert twice or lose one. Every such
transaction reports what it raised and cleared to `_alerts_changed`.
"""
import time
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.dispatch import Signal
from django.utils import timezone

from alerts import rules
from alerts.alert_log import log_alerts
from alerts.high_temp import high_temp_evaluate
from alerts.lifecycle import alerts_clear, alerts_raise
from alerts.models import Alert, AlertRule, DeviceAlertState
from alerts.state_rows import ensure_states
from alerts.status_flip import devices_flip_status
from alerts.thresholds import DEFAULT, DEVICE, DEVICE_TYPE, FIELDS, RuleBook, rule_book_load
from devices.models import HEARD_AGAIN, Device

DEVICES_PER_STATEMENT = 1000
HIGH_TEMP_BUDGET_SECONDS = 0.5
MAX_DEVICE_ROUNDS = 50

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


def _cas_status(device_ids: list[str], *, old: str, new: str, **also) -> None:
    """UPDATE ... SET status = new (and `also`) WHERE status = old for rows this transaction has locked."""
    changed = Device.objects.filter(pk__in=device_ids, status=old).update(status=new, **also)
    if changed != len(device_ids):
        raise TransitionConflict(f"{old}->{new}: {changed} of {len(device_ids)} devices changed")


def _record_offline(device_ids: list[str], *, since: datetime) -> None:
    """Remember when these devices went OFFLINE (their flip recorded their last_seen then)."""
    ensure_states(device_ids)
    DeviceAlertState.objects.filter(pk__in=device_ids).update(offline_since=since)


def _adopt(device_ids: list[str], *, since: datetime) -> None:
    """Record a transition for OFFLINE devices that have none (locked, so last_seen is unchanged)."""
    Device.objects.filter(pk__in=device_ids).update(offline_last_seen=Coalesce(F("last_seen"), Value(rules.NEVER_SEEN)))
    _record_offline(device_ids, since=since)


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


def devices_mark_online(*, now: datetime, limit: int = DEVICES_PER_STATEMENT) -> DeviceStep:
    """Mark OFFLINE devices that have sent since they went OFFLINE ONLINE, one alert each.

    An OFFLINE device without a recorded transition (e.g. set OFFLINE in the admin) is
    adopted: its current last_seen becomes the reference its next reading must pass.
    The devices are read from the partial index that holds exactly those two kinds
    (devices.models.HEARD_AGAIN), so a quiet step reads an empty index, and a batch the
    ingest commits however late is found at the next pass.
    """
    changed = Device.objects.filter(HEARD_AGAIN)
    if not changed.exists():
        return DeviceStep(examined=0, alerts=0)
    with transaction.atomic():
        rows = list(
            changed.select_for_update(skip_locked=True, of=("self",))
            .order_by()
            .values_list("pk", "last_seen", "alert_state__offline_since", "offline_last_seen")[:limit]
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
            _cas_status(ids, old=Device.Status.OFFLINE, new=Device.Status.ONLINE, offline_last_seen=None)
            cleared = alerts_clear(ids, Alert.Type.OFFLINE, now=now)
            # ONLINE reports the end of an OFFLINE; nothing is left to act on, so it is born CLEARED.
            raised = alerts_raise(Alert.Type.ONLINE, ts=now, cleared=True, payloads=[
                (pk, rules.online_payload(offline_since=since)) for pk, since in back
            ])
            DeviceAlertState.objects.filter(pk__in=ids).update(offline_since=None)
            _alerts_changed(raised=raised, cleared=cleared)
        if adopted:
            _adopt(adopted, since=now)
    log_alerts("ONLINE", [(pk, f"offline since {since.isoformat()}") for pk, since in back])
    return DeviceStep(examined=len(rows), alerts=len(back))


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
    online = _repeat(lambda: devices_mark_online(now=timezone.now()))
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
