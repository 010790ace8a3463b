"""Deliveries from the real worker process (`manage.py process_tasks`) to webhook receivers in this process."""
import statistics
import time

import pytest
from django.conf import settings

from devtools.waiting import wait_until
from health.models import Heartbeat
from notifications.models import Delivery
from notifications.services import notifications_enqueue
from notifications.tests.factories import SECRET, make_alert, make_webhook
from notifications.tests.receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def start_worker(start_process, platform_env, mqtt_broker):
    """Start workers; none may have logged a traceback."""
    workers = []

    def start(**overrides):
        # The tests' devices send nothing: on a slow run they would go OFFLINE and add deliveries.
        overrides.setdefault("OFFLINE_AFTER_SECONDS", "3600")
        worker = start_process("process_tasks", "--duration=0", "--sleep=1",
                               env=platform_env(mqtt_broker, **overrides))
        worker.wait_for_output(r"worker started")
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        assert "Traceback" not in worker.output(), worker.output()[-4000:]


def heartbeat_time():
    return Heartbeat.objects.filter(process=Heartbeat.Process.WORKER).values_list("updated_at", flat=True).first()


def wait_for_passes(count: int) -> None:
    """Let the worker write `count` more heartbeats (one per alert pass, every second).

    A worker started after one was killed may first wait up to MAX_RUN_TIME for the dead
    worker's lock on the alert task (docs/alerts.md), hence the long timeout.
    """
    for _ in range(count):
        before = heartbeat_time()
        wait_until(lambda: heartbeat_time() != before, timeout=settings.MAX_RUN_TIME + 10,
                   message="the worker wrote no heartbeat")


def test_each_event_is_received_exactly_once_through_a_500_and_a_killed_worker(start_worker):
    with Receiver(SECRET, fail_first=1) as receiver:
        make_webhook(receiver.url)
        worker = start_worker(NOTIFY_RETRY_BASE_SECONDS=3)
        alerts = [make_alert("OFFLINE", device_id=f"dev-{i}", payload={"last_seen": "2026-12-01T00:00:00.000Z"})
                  for i in range(5)]
        assert notifications_enqueue(alerts=alerts, event="raised") == 5
        # Every first attempt answered 500 and recorded: kill the worker before the retries.
        wait_until(lambda: Delivery.objects.filter(attempts=1, last_status_code=500).count() == 5, timeout=15,
                   message=f"first attempts not recorded: {receiver.requests}")
        worker.kill()
        restarted = start_worker(NOTIFY_RETRY_BASE_SECONDS=3)
        wait_until(lambda: Delivery.objects.filter(status="delivered").count() == 5, timeout=20,
                   message=f"not all delivered: {list(Delivery.objects.values('status', 'attempts', 'last_error'))}")

        # A worker killed and restarted after the successes sends none of them again.
        restarted.kill()
        start_worker()
        wait_for_passes(3)  # the drain polls every 0.5 s: several chances to send anything again
        ids = {str(d.uuid) for d in Delivery.objects.all()}
        assert receiver.bad_signatures == 0
        assert dict(receiver.accepted) == {delivery: 1 for delivery in ids}
        statuses = {delivery: [r["status"] for r in receiver.requests if r["delivery"] == delivery] for delivery in ids}
        assert statuses == {delivery: [500, 200] for delivery in ids}
        assert {body["device_id"] for body in receiver.accepted_bodies()} == {f"dev-{i}" for i in range(5)}
        assert all(body["event"] == "raised" and body["alert_type"] == "OFFLINE"
                   for body in receiver.accepted_bodies())
        assert set(Delivery.objects.values_list("attempts", flat=True)) == {2}


def test_a_slow_receiver_delays_neither_the_alert_passes_nor_another_receiver(start_worker):
    timeout = 3.0
    with Receiver(SECRET, delay=30) as slow, Receiver(SECRET) as fast:
        make_webhook(slow.url, name="slow", alert_types=["HIGH_TEMP"])
        make_webhook(fast.url, name="fast", alert_types=["HIGH_TEMP"])
        worker = start_worker(NOTIFY_WEBHOOK_TIMEOUT_SECONDS=timeout)
        wait_for_passes(1)
        enqueued = time.monotonic()
        notifications_enqueue(alerts=[make_alert(device_id=f"d{i}") for i in range(3)], event="raised")
        wait_until(lambda: slow.in_progress, timeout=10, message="the slow receiver got nothing")

        # The fast receiver gets its three while the slow one still holds its first request.
        wait_until(lambda: len(fast.accepted) == 3, timeout=10, message=f"fast receiver got {fast.requests}")
        fast_done = time.monotonic() - enqueued
        assert fast_done < timeout, f"the fast receiver waited for the slow one ({fast_done:.2f} s)"

        # Passes go on every second while deliveries to the slow receiver time out.
        beats, watch_until = [heartbeat_time()], time.monotonic() + 2.5 * timeout
        while time.monotonic() < watch_until:
            beat = heartbeat_time()
            if beat != beats[-1]:
                beats.append(beat)
            time.sleep(0.05)
        gaps = [(b - a).total_seconds() for a, b in zip(beats, beats[1:])]
        print(f"\nfast receiver done {fast_done:.2f} s after the enqueue; heartbeat gaps while the slow receiver "
              f"timed out: max {max(gaps):.2f} s, median {statistics.median(gaps):.2f} s over {len(gaps)}")
        assert len(gaps) >= 4 and max(gaps) < 2.5
        timed_out = Delivery.objects.filter(webhook__name="slow", attempts__gte=1)
        assert timed_out.exists() and "timed out" in timed_out.first().last_error
        assert not Delivery.objects.filter(webhook__name="slow", status="delivered").exists()

        # Stopped while a delivery hangs: still exit 0 within 10 s.
        wait_until(lambda: slow.in_progress, timeout=10)
        stopping = time.monotonic()
        assert worker.terminate(timeout=10) == 0
        print(f"process_tasks exited 0, {time.monotonic() - stopping:.2f} s after SIGTERM with a send in flight")


def test_time_from_enqueue_to_webhook_delivery(start_worker):
    with Receiver(SECRET) as receiver:
        # HIGH_TEMP only: the worker's own alerts (its OFFLINE passes) must not add deliveries.
        make_webhook(receiver.url, alert_types=["HIGH_TEMP"])
        start_worker()
        wait_for_passes(1)
        delays = []
        for i in range(20):
            # After a pass, not right after the last delivery: the enqueue then falls anywhere in the drain's poll.
            wait_for_passes(1)
            enqueued = time.monotonic()
            notifications_enqueue(alerts=[make_alert(device_id=f"lat-{i}")], event="raised")
            wait_until(lambda: len(receiver.accepted) == i + 1, timeout=10)
            delays.append(receiver.requests[-1]["at"] - enqueued)
    print(f"\nenqueue -> webhook received: median {statistics.median(delays) * 1000:.0f} ms, "
          f"min {min(delays) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms over {len(delays)}")
    # The drain polls every 0.5 s; the margin is for a loaded machine.
    assert statistics.median(delays) < 1.5
