"""Fault 5: the alert worker killed (SIGKILL) in the middle of an evaluation, then restarted.

A real `manage.py process_tasks` evaluates a backlog of readings with known HIGH_TEMP
episodes while it is killed mid-pass and restarted; the fleet also goes OFFLINE and
comes back ONLINE. Afterwards every expected alert exists exactly once. Part of the
`faults` suite (see docs/reliability.md).
"""
import os
import signal
import time
from collections import Counter
from datetime import timedelta

import pytest
from background_task.models import Task
from django.utils import timezone

from alerts.models import Alert
from alerts.tasks import TASK_NAME
from common.timefmt import iso_utc
from devices.models import Device
from devtools.waiting import wait_until
from devtools.worker import wait_for_worker_passes
from telemetry.payload import Reading
from telemetry.services import telemetry_store_batch

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

HIGH_TEMP_KILLS = int(os.environ.get("FAULTS_WORKER_KILLS") or 1)
DEVICES = 200
QUIET_DEVICES = 3000  # devices that only go OFFLINE and come back
READINGS_PER_ROUND = 100  # per device; a new round of readings arrives before each restart
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


def task_locked_by(pid: int) -> bool:
    return Task.objects.filter(task_name=TASK_NAME, locked_by=str(pid)).exists()


def kill_mid_pass(worker, committed) -> int:
    """SIGKILL `worker` in the middle of an alert pass; the alerts `committed()` counted by then.

    The worker is frozen (SIGSTOP) until it is caught holding the alert task's lock with
    some of the pass's alerts committed, so the kill always lands inside a pass that has
    begun to write, never between two passes.
    """
    pid, before = worker.process.pid, committed()

    def frozen_in_pass() -> int | None:
        os.kill(pid, signal.SIGSTOP)
        if task_locked_by(pid) and (now := committed()) > before:
            return now
        os.kill(pid, signal.SIGCONT)
        return None

    at_kill = wait_until(frozen_in_pass, timeout=MAX_RUN_TIME + 20, interval=0.005,
                         message=f"the worker was never caught in a pass that had begun to commit alerts (make "
                                 f"the backlog larger):\n{worker.output()[-3000:]}")
    worker.kill()
    return at_kill


def alerts_of(prefix: str, alert_type: str) -> list[tuple[str, str]]:
    rows = Alert.objects.filter(device__device_id__startswith=f"{prefix}-", alert_type=alert_type)
    return [(device, payload.get("ts", "")) for device, payload in rows.values_list("device_id", "payload")]


def test_fault5_worker_killed_mid_evaluation_loses_and_doubles_no_alert(start_worker, report_figures):
    prefix = f"w{os.urandom(3).hex()}"
    base = timezone.now() - timedelta(days=1)
    kills = {"HIGH_TEMP": 0, "OFFLINE": 0, "ONLINE": 0}
    at_kill = []  # alerts of the kind being raised that were committed when the worker died
    recoveries = []

    def worker_for(offline_after: float):
        return start_worker(OFFLINE_AFTER_SECONDS=offline_after, HIGH_TEMP_THRESHOLD=THRESHOLD,
                            BACKGROUND_TASK_MAX_RUN_TIME=MAX_RUN_TIME)

    def kill_and_restart(worker, during: str, offline_after: float, meanwhile=lambda: None):
        committed = kill_mid_pass(worker, lambda: len(alerts_of(prefix, during)))
        kills[during] += 1
        at_kill.append(f"{during}:{committed}")
        meanwhile()
        restarted_at = time.monotonic()
        worker = worker_for(offline_after)
        wait_until(lambda: task_locked_by(worker.process.pid), timeout=MAX_RUN_TIME + 20, interval=0.005,
                   message=f"the restarted worker never ran the alert task:\n{worker.output()[-3000:]}")
        recoveries.append(time.monotonic() - restarted_at)
        return worker

    # A. HIGH_TEMP: a backlog of readings with known hot spells, a new round of readings
    # arriving while the worker is down after each kill. No device goes OFFLINE yet.
    quiet = 600.0
    store_readings(prefix, range(0, READINGS_PER_ROUND), base)
    worker = worker_for(quiet)
    for kill in range(1, HIGH_TEMP_KILLS + 1):
        worker = kill_and_restart(worker, "HIGH_TEMP", quiet, meanwhile=lambda: store_readings(
            prefix, range(kill * READINGS_PER_ROUND, (kill + 1) * READINGS_PER_ROUND), base))
    total = (HIGH_TEMP_KILLS + 1) * READINGS_PER_ROUND
    expected_high = {
        (f"{prefix}-{d:03d}", iso_utc(base + timedelta(seconds=i)))
        for d in range(1, DEVICES + 1) for i in range(total) if i % PERIOD == HOT.start
    }
    wait_until(lambda: len(alerts_of(prefix, Alert.Type.HIGH_TEMP)) >= len(expected_high), timeout=60,
               message="HIGH_TEMP alerts were lost")
    assert worker.terminate() == 0

    # B. OFFLINE: many more devices, all silent for an hour, go OFFLINE at once; killed mid-pass.
    Device.objects.bulk_create(
        Device(device_id=f"{prefix}-{d:03d}", last_seen=timezone.now() - timedelta(hours=1))
        for d in range(DEVICES + 1, DEVICES + QUIET_DEVICES + 1)
    )
    fleet = DEVICES + QUIET_DEVICES
    worker = kill_and_restart(worker_for(OFFLINE_AFTER), "OFFLINE", OFFLINE_AFTER)
    wait_until(lambda: len(alerts_of(prefix, Alert.Type.OFFLINE)) >= fleet, timeout=OFFLINE_AFTER + 30,
               message="OFFLINE alerts were lost")

    # C. ONLINE: every device sends once more; killed mid-pass again.
    store_readings(prefix, range(total, total + 1), base, devices=fleet)
    worker = kill_and_restart(worker, "ONLINE", OFFLINE_AFTER)
    wait_until(lambda: len(alerts_of(prefix, Alert.Type.ONLINE)) >= fleet, timeout=30,
               message="ONLINE alerts were lost")
    # Some more passes, then the repeating task must be scheduled exactly once again.
    wait_for_worker_passes(2)
    wait_until(lambda: Task.objects.filter(task_name=TASK_NAME, failed_at=None).count() == 1, timeout=15,
               message="the repeating alert task is not scheduled exactly once after the restarts")
    assert worker.terminate() == 0

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
    report_figures("5 worker SIGKILL mid-evaluation", devices=fleet, readings=readings, kills=sum(kills.values()),
                   **{f"kills_{kind}": count for kind, count in kills.items()},
                   committed_at_kill=",".join(at_kill), high_temp_expected=len(expected_high),
                   high_temp_raised=len(high), offline_raised=sum(offline.values()),
                   online_raised=sum(online.values()), doubled=0, lost=0,
                   recovery_s="/".join(f"{s:.1f}" for s in recoveries), max_run_time_s=MAX_RUN_TIME)
