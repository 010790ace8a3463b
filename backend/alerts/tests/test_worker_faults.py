"""Fault 5: alert workers killed (SIGKILL) in the middle of an evaluation, then restarted.

Real `manage.py process_tasks` workers, one or two at once, evaluate a backlog of
readings with known HIGH_TEMP episodes while one of them is killed mid-pass and
restarted; the fleet also goes OFFLINE and comes back ONLINE. Afterwards every
expected alert exists exactly once. With two workers (PostgreSQL, the production
database of several workers) a second schedule of the alert task is added before every
HIGH_TEMP kill, as the library leaves one after a kill at the wrong moment, so that both
evaluate the same readings at the same time. Every kill lands in a pass that has begun
to commit its alerts. Part of the `faults` suite (see docs/reliability.md).
"""
import os
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from background_task.models import Task
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from alerts.high_temp import WATERMARK_NAME
from alerts.models import Alert, ReadingWatermark
from alerts.tasks import TASK_NAME
from common.timefmt import iso_utc
from devices.models import Device
from devtools.waiting import wait_until
from devtools.worker import wait_for_worker_passes
from telemetry.models import Telemetry
from telemetry.payload import Reading
from telemetry.services import telemetry_store_batch

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

HIGH_TEMP_KILLS = int(os.environ.get("FAULTS_WORKER_KILLS") or 1)
DEVICES = 200
QUIET_DEVICES = 3000  # devices that only go OFFLINE and come back
# Per device; a new round of readings arrives before each restart. Enough that a pass is still
# writing its alerts when a worker is caught (the alerts' INSERT takes a few ms per 1,000).
READINGS_PER_ROUND = 200
PERIOD = 20  # reading i of a device is hot (35 °C) when i % PERIOD is in HOT, else 25 °C
HOT = range(5, 10)
THRESHOLD = 30.0
OFFLINE_AFTER = 3.0
# The shortest lock the library allows a dead worker's task to keep (settings.MAX_RUN_TIME).
MAX_RUN_TIME = 5


def temperature(i: int) -> float:
    return 35.0 if i % PERIOD in HOT else 25.0


def store_readings(prefix: str, indexes: range, base, devices: int = DEVICES) -> None:
    """Store readings the way the ingest does (telemetry_store_batch), a few thousand per batch."""
    batch, known = [], set()
    for i in indexes:
        for d in range(1, devices + 1):
            reading = Reading(device_id=f"{prefix}-{d:03d}", ts=base + timedelta(seconds=i),
                              temperature=temperature(i), humidity=50.0, battery=None, extra=None)
            batch.append((reading, timezone.now()))
            if len(batch) == 5_000:
                telemetry_store_batch(readings=batch, rejections=[], known_device_ids=known)
                batch = []
    if batch:
        telemetry_store_batch(readings=batch, rejections=[], known_device_ids=known)


def locker(pool) -> object | None:
    """The worker of `pool` that holds a lock on the alert task, if one does."""
    by_pid = {str(worker.process.pid): worker for worker in pool}
    holder = (Task.objects.filter(task_name=TASK_NAME, locked_by__in=list(by_pid))
              .order_by("-locked_at").values_list("locked_by", flat=True).first())
    return by_pid.get(holder)


def task_locked_by(pid: int) -> bool:
    return Task.objects.filter(task_name=TASK_NAME, locked_by=str(pid)).exists()


def add_second_schedule() -> None:
    """A second, unlocked copy of the alert task's schedule, due now, as a badly timed kill leaves one."""
    task = Task.objects.filter(task_name=TASK_NAME, failed_at=None).order_by("id").first()
    if task is not None:
        task.pk = None
        task.locked_by = task.locked_at = None
        task.run_at = timezone.now()
        task.save()


def two_evaluating(pool, *, within: float) -> bool:
    """Whether two workers of `pool` hold a lock on the alert task at once at some moment within `within` s."""
    pids = [str(worker.process.pid) for worker in pool]
    locked = Task.objects.filter(task_name=TASK_NAME, locked_by__in=pids)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if locked.values("locked_by").distinct().count() > 1:
            return True
        time.sleep(0.005)
    return False


def in_own_connection(work) -> None:
    """Run `work` (in a thread of its own) and close the database connection it opened."""
    try:
        work()
    finally:
        connection.close()


def readings_left() -> bool:
    """Whether some stored readings are past the HIGH_TEMP watermark, still to be evaluated."""
    newest = Telemetry.objects.aggregate(newest=Max("id"))["newest"] or 0
    return ReadingWatermark.objects.filter(name=WATERMARK_NAME, position__lt=newest).exists()


def kill_mid_pass(pool, committed, *, unfinished=lambda: True) -> tuple[object, int]:
    """SIGKILL the worker of `pool` that is in the middle of an alert pass.

    The worker holding the alert task's lock is frozen (SIGSTOP) until it is caught holding
    it with more alerts `committed()` than when called and its work `unfinished()`, so the kill always lands inside a pass that has begun to write and
    has more to write, never between two passes. The worker killed, and the alerts counted by then.
    """
    before = committed()

    def frozen_in_pass() -> tuple[object, int] | None:
        victim = locker(pool)
        if victim is None:
            return None
        pid = victim.process.pid
        os.kill(pid, signal.SIGSTOP)
        if task_locked_by(pid) and (now := committed()) > before and unfinished():
            return victim, now
        os.kill(pid, signal.SIGCONT)
        return None

    victim, at_kill = wait_until(
        frozen_in_pass, timeout=MAX_RUN_TIME + 20, interval=0.005,
        message="no worker was caught in a pass that had begun to commit alerts (make the backlog larger):\n"
                + "\n".join(w.output()[-3000:] for w in pool))
    victim.kill()
    return victim, at_kill


def alerts_of(prefix: str, alert_type: str) -> list[tuple[str, str]]:
    rows = Alert.objects.filter(device__device_id__startswith=f"{prefix}-", alert_type=alert_type)
    return [(device, payload.get("ts", "")) for device, payload in rows.values_list("device_id", "payload")]


@pytest.mark.parametrize("workers", [1, 2], ids=["one-worker", "two-workers"])
def test_fault5_worker_killed_mid_evaluation_loses_and_doubles_no_alert(start_worker, report_figures, workers):
    if workers > 1 and connection.vendor != "postgresql":
        pytest.skip("several workers are the PostgreSQL topology (make test-postgres); SQLite has one writer")
    # Two workers: at least two kills while the readings are evaluated, however short the run.
    high_temp_kills = max(HIGH_TEMP_KILLS, workers)
    prefix = f"w{os.urandom(3).hex()}"
    base = timezone.now() - timedelta(days=1)
    kills = {"HIGH_TEMP": 0, "OFFLINE": 0, "ONLINE": 0}
    at_kill = []  # alerts of the kind being raised that were committed when the worker died
    recoveries, both_locked = [], 0
    started = []

    def worker_for(offline_after: float):
        worker = start_worker(OFFLINE_AFTER_SECONDS=offline_after, HIGH_TEMP_THRESHOLD=THRESHOLD,
                              BACKGROUND_TASK_MAX_RUN_TIME=MAX_RUN_TIME)
        started.append(worker)
        return worker

    def start_pool(offline_after: float) -> list:
        return [worker_for(offline_after) for _ in range(workers)]

    def kill_and_restart(pool, during: str, offline_after: float, meanwhile=lambda: None, together=None):
        """Kill the worker of `pool` in its pass, run `meanwhile`, start a replacement.

        With two workers, `together` (given) is work that both evaluate at once: once both
        hold a schedule of the task it is stored from another thread while the kill is looked
        for, since the two together evaluate a stored round faster than the test could look.
        """
        nonlocal both_locked
        count = lambda: len(alerts_of(prefix, during))  # noqa: E731
        unfinished = readings_left if during == Alert.Type.HIGH_TEMP else lambda: True
        if workers > 1 and together is not None:
            add_second_schedule()
            both_locked += two_evaluating(pool, within=MAX_RUN_TIME)
            with ThreadPoolExecutor(max_workers=1) as storing:
                stored = storing.submit(in_own_connection, together)
                victim, committed = kill_mid_pass(pool, count, unfinished=unfinished)
                stored.result()
        else:
            victim, committed = kill_mid_pass(pool, count, unfinished=unfinished)
        kills[during] += 1
        at_kill.append(f"{during}:{committed}")
        meanwhile()
        restarted_at = time.monotonic()
        pool = [worker for worker in pool if worker is not victim] + [worker_for(offline_after)]
        wait_until(lambda: locker(pool), timeout=MAX_RUN_TIME + 20, interval=0.005,
                   message="no worker ran the alert task after the kill:\n"
                           + "\n".join(w.output()[-3000:] for w in pool))
        recoveries.append(time.monotonic() - restarted_at)
        return pool

    def terminate(pool) -> None:
        for worker in pool:
            assert worker.terminate() == 0

    # A. HIGH_TEMP: a backlog of readings with known hot spells, a new round of readings
    # arriving while the worker is down after each kill. No device goes OFFLINE yet.
    # With two workers a round also arrives while both run, so that both evaluate it at once.
    quiet = 600.0
    rounds = 0

    def store_round() -> None:
        nonlocal rounds
        store_readings(prefix, range(rounds * READINGS_PER_ROUND, (rounds + 1) * READINGS_PER_ROUND), base)
        rounds += 1

    store_round()
    pool = start_pool(quiet)
    for _ in range(high_temp_kills):
        pool = kill_and_restart(pool, "HIGH_TEMP", quiet, meanwhile=store_round, together=store_round)
    total = rounds * READINGS_PER_ROUND
    expected_high = {
        (f"{prefix}-{d:03d}", iso_utc(base + timedelta(seconds=i)))
        for d in range(1, DEVICES + 1) for i in range(total) if i % PERIOD == HOT.start
    }
    wait_until(lambda: len(alerts_of(prefix, Alert.Type.HIGH_TEMP)) >= len(expected_high), timeout=60,
               message="HIGH_TEMP alerts were lost")
    terminate(pool)

    # B. OFFLINE: many more devices, all silent for an hour, go OFFLINE at once; killed mid-pass.
    # They appear once every worker runs, so that the kill finds one in the pass that flips them.
    pool = start_pool(OFFLINE_AFTER)
    Device.objects.bulk_create(
        Device(device_id=f"{prefix}-{d:03d}", last_seen=timezone.now() - timedelta(hours=1))
        for d in range(DEVICES + 1, DEVICES + QUIET_DEVICES + 1)
    )
    fleet = DEVICES + QUIET_DEVICES
    pool = kill_and_restart(pool, "OFFLINE", OFFLINE_AFTER)
    wait_until(lambda: len(alerts_of(prefix, Alert.Type.OFFLINE)) >= fleet, timeout=OFFLINE_AFTER + 30,
               message="OFFLINE alerts were lost")

    # C. ONLINE: every device sends once more; killed mid-pass again.
    store_readings(prefix, range(total, total + 1), base, devices=fleet)
    pool = kill_and_restart(pool, "ONLINE", OFFLINE_AFTER)
    wait_until(lambda: len(alerts_of(prefix, Alert.Type.ONLINE)) >= fleet, timeout=30,
               message="ONLINE alerts were lost")
    # Some more passes, then the repeating task must be scheduled exactly once again.
    wait_for_worker_passes(2)
    wait_until(lambda: Task.objects.filter(task_name=TASK_NAME, failed_at=None).count() == 1, timeout=15,
               message="the repeating alert task is not scheduled exactly once after the restarts")
    terminate(pool)
    if workers > 1:
        assert both_locked >= 1, "the two workers never evaluated at the same time"
    # A pass that lost a race changes nothing; none may fail on a constraint instead.
    for worker in started:
        assert "alert evaluation failed" not in worker.output(), worker.output()[-4000:]

    high = alerts_of(prefix, Alert.Type.HIGH_TEMP)
    assert len(high) == len(set(high)), "a HIGH_TEMP alert was raised twice"
    assert set(high) == expected_high
    online = Counter(device for device, _ in alerts_of(prefix, Alert.Type.ONLINE))
    offline = Counter(device for device, _ in alerts_of(prefix, Alert.Type.OFFLINE))
    assert len(online) == fleet and set(online.values()) == {1}, "an ONLINE alert was lost or doubled"
    # A device silent again for OFFLINE_AFTER since its last reading is OFFLINE once more:
    # its alerts then read OFFLINE, ONLINE, OFFLINE, and its status says so.
    histories = {}
    for device_id, alert_type in (Alert.objects.filter(device__device_id__startswith=f"{prefix}-")
                                  .exclude(alert_type=Alert.Type.HIGH_TEMP).order_by("id")
                                  .values_list("device_id", "alert_type")):
        histories.setdefault(device_id, []).append(alert_type)
    statuses = dict(Device.objects.filter(device_id__startswith=f"{prefix}-").values_list("device_id", "status"))
    for device_id, status in statuses.items():
        types = histories.get(device_id, [])
        assert types in (["OFFLINE", "ONLINE"], ["OFFLINE", "ONLINE", "OFFLINE"]), f"{device_id}: {types}"
        assert status == types[-1], f"{device_id} is {status} after {types}"

    readings = DEVICES * total + fleet
    report_figures("5 worker SIGKILL mid-evaluation", workers=workers, both_evaluating_at_kill=both_locked,
                   devices=fleet, readings=readings, kills=sum(kills.values()),
                   **{f"kills_{kind}": count for kind, count in kills.items()},
                   committed_at_kill=",".join(at_kill), high_temp_expected=len(expected_high),
                   high_temp_raised=len(high), offline_raised=sum(offline.values()),
                   online_raised=sum(online.values()), doubled=0, lost=0,
                   recovery_s="/".join(f"{s:.1f}" for s in recoveries), max_run_time_s=MAX_RUN_TIME)
