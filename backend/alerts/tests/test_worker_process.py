"""The real worker process (`manage.py process_tasks`) with a real broker and ingest."""
import signal
import statistics
import time
from datetime import timedelta

import pytest
from background_task.models import Task

from alerts.models import Alert
from alerts.tasks import TASK_NAME
from common.timefmt import iso_utc
from devices.models import Device
from devtools.waiting import wait_until
from devtools.worker import wait_for_worker_passes
from telemetry.models import Telemetry

pytestmark = pytest.mark.django_db(transaction=True)

OFFLINE_AFTER = 2.0
# The contract: an alert within 2 s of its deadline (OFFLINE) or of the reading (ONLINE).
LATENESS_ALLOWED = timedelta(seconds=2)


@pytest.fixture
def worker_env(mqtt_broker, platform_env):
    return platform_env(mqtt_broker, OFFLINE_AFTER_SECONDS=OFFLINE_AFTER, HIGH_TEMP_THRESHOLD=30)


@pytest.fixture
def publisher(mqtt_broker, start_ingest, worker_env, publisher_for):
    start_ingest(mqtt_broker, env=worker_env)
    return publisher_for(mqtt_broker)


def alerts(device_id=None, alert_type=None):
    found = Alert.objects.all()
    if device_id:
        found = found.filter(device_id=device_id)
    if alert_type:
        found = found.filter(alert_type=alert_type)
    return list(found.order_by("id"))


def wait_for_alerts(count, timeout=10.0, **filters):
    return wait_until(lambda: len(alerts(**filters)) >= count and alerts(**filters), timeout=timeout,
                      message=f"{count} alert(s) {filters} not raised; have {[str(a) for a in alerts()]}")


def history(device_id):
    """The device's alert types, oldest first, without a final OFFLINE: with a 2 s limit a
    device that has come back goes OFFLINE again as soon as the test stops publishing."""
    types = [a.alert_type for a in alerts(device_id)]
    return types[:-1] if types[-1:] == ["OFFLINE"] and "ONLINE" in types else types


def send(publisher, device_id, *temperatures):
    """Publish readings with increasing ts and wait until the ingest has stored them."""
    stored = Telemetry.objects.filter(device_id=device_id).count()
    start_ms = int(time.time() * 1000) - len(temperatures)
    for i, temperature in enumerate(temperatures):
        publisher.reading(device_id, temperature=temperature, ts=start_ms + i)
    wait_until(lambda: Telemetry.objects.filter(device_id=device_id).count() == stored + len(temperatures))
    return Device.objects.get(pk=device_id)


def test_a_silent_device_goes_offline_once_then_online_once_when_it_sends_again(publisher, start_worker, client):
    worker = start_worker()
    devices = [f"quiet-{i}" for i in range(5)]
    seen = {}
    for device_id in devices:
        seen[device_id] = send(publisher, device_id, 22.0).last_seen
        time.sleep(0.37)  # spread the deadlines over the worker's one-second cycle

    delays = []
    for device_id in devices:
        [offline] = wait_for_alerts(1, device_id=device_id, alert_type="OFFLINE")
        deadline = seen[device_id] + timedelta(seconds=OFFLINE_AFTER)
        assert offline.payload == {"last_seen": iso_utc(seen[device_id]), "offline_after_seconds": OFFLINE_AFTER,
                                   "source": "default"}
        assert deadline < offline.ts <= deadline + LATENESS_ALLOWED
        delays.append((offline.ts - deadline).total_seconds())
    print(f"\ndeadline -> OFFLINE alert: min {min(delays):.3f} s, median {statistics.median(delays):.3f} s, "
          f"max {max(delays):.3f} s over {len(delays)} devices")

    wait_for_worker_passes(2)
    assert len(alerts(alert_type="OFFLINE")) == len(devices)
    assert set(Device.objects.values_list("status", flat=True)) == {"OFFLINE"}

    came_back = send(publisher, "quiet-0", 23.0)
    [online] = wait_for_alerts(1, device_id="quiet-0", alert_type="ONLINE")
    assert online.ts - came_back.last_seen <= LATENESS_ALLOWED
    offline = alerts("quiet-0", "OFFLINE")[0]
    assert online.payload == {"offline_since": iso_utc(offline.ts)}
    wait_for_worker_passes(1)
    assert history("quiet-0") == ["OFFLINE", "ONLINE"]

    # The API's filters over these alerts, once the worker has stopped adding to them.
    assert worker.terminate() == 0
    body = client.get("/api/alerts/", {"deviceId": "quiet-0", "alert_type": "ONLINE"}).json()
    assert body == [{"id": online.id, "device_id": "quiet-0", "alert_type": "ONLINE",
                     "ts": iso_utc(online.ts), "payload": online.payload, "severity": "info", "status": "CLEARED",
                     "cleared_at": iso_utc(online.ts), "acknowledged_at": None, "acknowledged_by": None}]
    assert [a["alert_type"] for a in client.get("/api/alerts/", {"deviceId": "quiet-1"}).json()] == ["OFFLINE"]
    # Coming back cleared quiet-0's OFFLINE; the others, still silent, stay ACTIVE.
    active = client.get("/api/alerts/", {"status": "active", "alert_type": "OFFLINE"}).json()
    assert {a["device_id"] for a in active} >= set(devices) - {"quiet-0"}
    assert offline.id not in {a["id"] for a in active}
    offline_only = client.get("/api/alerts/", {"alert_type": "offline"}).json()
    assert [a["id"] for a in offline_only] == [a.id for a in reversed(alerts(alert_type="OFFLINE"))]
    newest_two = client.get("/api/alerts/", {"limit": 2}).json()
    assert [a["id"] for a in newest_two] == [a.id for a in Alert.objects.order_by("-ts", "-id")[:2]]
    assert client.get("/api/alerts/", {"limit": 0}).status_code == 400


def test_a_hot_spell_raises_one_high_temp_alert_per_episode(publisher, start_worker):
    start_worker()
    send(publisher, "oven", 25, 31, 32, 33, 29, 31)
    readings = list(Telemetry.objects.filter(device_id="oven").order_by("ts"))
    raised = wait_for_alerts(2, device_id="oven", alert_type="HIGH_TEMP")
    wait_for_worker_passes(2)
    assert len(alerts("oven", "HIGH_TEMP")) == 2
    assert [a.payload for a in raised] == [
        {"temperature": 31.0, "threshold": 30.0, "hysteresis": 0.0, "source": "default", "ts": iso_utc(readings[1].ts)},
        {"temperature": 31.0, "threshold": 30.0, "hysteresis": 0.0, "source": "default", "ts": iso_utc(readings[5].ts)},
    ]


def test_restarting_the_worker_raises_no_alert_twice_and_keeps_one_schedule(publisher, start_worker, client):
    first = start_worker()
    send(publisher, "restart-me", 35.0)
    wait_for_alerts(1, device_id="restart-me", alert_type="OFFLINE")
    assert client.get("/api/health/").json()["worker"] == "running"

    for sig in (signal.SIGTERM, signal.SIGINT):
        started = time.monotonic()
        assert first.terminate(timeout=10, sig=sig) == 0
        print(f"\nprocess_tasks exited 0, {time.monotonic() - started:.2f} s after {sig.name}")
        assert client.get("/api/health/").json()["worker"] == "stopped"
        first = start_worker()
        wait_for_worker_passes(3)
        # The library finishes a repetition by saving the next one before deleting itself,
        # so two rows exist for an instant; what must never last is a second schedule.
        wait_until(lambda: Task.objects.filter(task_name=TASK_NAME).count() == 1, timeout=5,
                   message="a second schedule of the alert task outlived the pass that made it")

    assert [a.alert_type for a in alerts("restart-me")] == ["HIGH_TEMP", "OFFLINE"]
    send(publisher, "restart-me", 36.0)
    wait_for_alerts(1, device_id="restart-me", alert_type="ONLINE")
    wait_for_worker_passes(2)
    assert history("restart-me") == ["HIGH_TEMP", "OFFLINE", "ONLINE"]


def test_a_killed_worker_is_replaced_without_a_second_schedule(publisher, start_worker):
    # A lock left by a killed worker expires after MAX_RUN_TIME (here its minimum, 5 s).
    worker = start_worker(BACKGROUND_TASK_MAX_RUN_TIME="5")
    wait_for_worker_passes(1)
    worker.kill()
    start_worker(BACKGROUND_TASK_MAX_RUN_TIME="5")
    send(publisher, "after-kill", 20.0)
    wait_for_alerts(1, timeout=15, device_id="after-kill", alert_type="OFFLINE")
    wait_for_worker_passes(2)
    # Finishing a repetition holds two rows for an instant (see above); a second schedule would last.
    wait_until(lambda: Task.objects.filter(task_name=TASK_NAME).count() == 1, timeout=5,
               message="a second schedule of the alert task outlived the pass that made it")
    assert len(alerts("after-kill")) == 1


def test_two_workers_at_once_raise_every_alert_exactly_once(publisher, start_worker):
    workers = [start_worker(), start_worker()]
    wait_for_worker_passes(1)
    # A second schedule, as the library leaves after a kill at the wrong moment: both
    # workers now evaluate at the same time until the duplicate is repaired.
    # Between finishing a repetition and deleting it the library holds two rows for an instant.
    [task] = wait_until(lambda: len(tasks := list(Task.objects.filter(task_name=TASK_NAME))) == 1 and tasks,
                        timeout=5, message="the alert task is not scheduled exactly once")
    task.pk = None
    task.locked_by = task.locked_at = None
    task.save()

    fleet = [f"pair-{i:02d}" for i in range(12)]
    for device_id in fleet:
        send(publisher, device_id, 25, 31, 29, 34)
    wait_for_alerts(2 * len(fleet), alert_type="HIGH_TEMP")
    wait_for_alerts(len(fleet), alert_type="OFFLINE")
    for device_id in fleet:
        send(publisher, device_id, 20)
    wait_for_alerts(len(fleet), alert_type="ONLINE")
    wait_for_worker_passes(3)

    for device_id in fleet:
        assert history(device_id) == ["HIGH_TEMP", "HIGH_TEMP", "OFFLINE", "ONLINE"]
        # 29 ended the first episode, 20 the second; being heard again cleared OFFLINE.
        statuses = [(a.alert_type, a.status) for a in alerts(device_id)][:4]
        assert statuses == [("HIGH_TEMP", "CLEARED"), ("HIGH_TEMP", "CLEARED"), ("OFFLINE", "CLEARED"),
                            ("ONLINE", "CLEARED")]
    for worker in workers:
        assert "IntegrityError" not in worker.output() and "alert evaluation failed" not in worker.output()
    wait_until(lambda: Task.objects.filter(task_name=TASK_NAME).count() == 1, timeout=12,
               message="the duplicate schedule was not repaired")


def test_the_worker_serves_its_metrics_and_counts_the_alerts_it_raises(publisher, start_worker):
    from devtools.broker import free_port
    from devtools.metrics import sample, scrape, wait_for_sample

    port = free_port()
    start_worker(WORKER_METRICS_PORT=str(port))
    before = wait_until(lambda: _scrape_or_none(scrape, port), timeout=10)
    send(publisher, "metrics-hot", 25.0, 35.0, 36.0, 20.0, 37.0)
    wait_for_alerts(2, device_id="metrics-hot", alert_type="HIGH_TEMP")
    after = wait_for_sample(port, "telemetry_alerts_raised_total",
                            sample(before, "telemetry_alerts_raised_total", type="HIGH_TEMP") + 2, type="HIGH_TEMP")
    assert sample(after, "telemetry_alerts_pass_seconds_count") > sample(before, "telemetry_alerts_pass_seconds_count")
    assert sample(after, "telemetry_devices", status="ONLINE") >= 1


def _scrape_or_none(scrape, port):
    try:
        return scrape(port)
    except OSError:
        return None
