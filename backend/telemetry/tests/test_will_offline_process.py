"""Instant OFFLINE through the MQTT last will, with a real broker, ingest, worker and simulator."""
import re
import signal
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from alerts.models import Alert
from devices.models import Device
from devtools.processes import BACKEND_DIR, ManagedProcess
from devtools.waiting import wait_until
from health.models import Heartbeat

pytestmark = pytest.mark.django_db(transaction=True)

SIMULATOR = BACKEND_DIR.parent / "simulator" / "simulator.py"
KEEPALIVE = 2  # the broker drops a silent connection after 1.5 x this
# docs/contract.md: OFFLINE within 3 s of the broker noticing the dropped connection.
OFFLINE_WITHIN = 3.0
# The broker log stamps whole seconds, so its notice may be up to 1 s later than written.
LOG_RESOLUTION = 1.0
# A killed process's socket is closed by its kernel: the broker notices at once. A frozen
# one (or a cut network) keeps it open: the broker notices at its keepalive timeout.
NOTICED = re.compile(r"^(\S+): Client (\S+) (?:closed its connection|has exceeded timeout, disconnecting)", re.M)


@pytest.fixture
def simulate(private_broker, start_command):
    """Start a simulator fleet on the test's broker and wait until it is connected."""

    def run(prefix: str, devices: int, *args: str) -> ManagedProcess:
        command = [sys.executable, str(SIMULATOR), "--host", "127.0.0.1", "--port", str(private_broker.port),
                   "--device-id", prefix, "--devices", str(devices), "--interval", "0.2", "--drop-rate", "0",
                   "--keepalive", str(KEEPALIVE), *args]
        process = start_command(command, name="simulator", cwd=SIMULATOR.parent)
        process.wait_for_output(r"Connected to the MQTT broker")
        return process

    return run


def _noticed_at(broker, client_ids: set[str]) -> dict[str, datetime]:
    """When the broker logged that each client's connection was gone (its local time, whole seconds)."""
    text = broker.log_file.read_text() if broker.log_file.exists() else ""
    return {
        client: datetime.fromisoformat(stamp).astimezone(UTC)
        for stamp, client in NOTICED.findall(text) if client in client_ids
    }


def _offline_alerts(device_ids):
    return list(Alert.objects.filter(device_id__in=device_ids, alert_type=Alert.Type.OFFLINE).order_by("id"))


def _assert_offline_soon_after_the_broker_noticed(broker, alerts, pid: int) -> None:
    clients = {f"{alert.device_id}-{pid}": alert for alert in alerts}
    noticed = wait_until(lambda: (seen := _noticed_at(broker, set(clients))) and len(seen) == len(clients) and seen,
                         timeout=5, message="the broker never logged the dropped connections")
    for client, alert in clients.items():
        since_notice = (alert.ts - noticed[client]).total_seconds()
        assert since_notice <= OFFLINE_WITHIN + LOG_RESOLUTION, (alert.device_id, since_notice)


def _worker_passes_after(moment: datetime, passes: int = 2) -> None:
    """Wait until the worker has beaten `passes` seconds after `moment`: passes that saw what was there then."""
    wait_until(lambda: Heartbeat.objects.filter(process=Heartbeat.Process.WORKER,
                                                updated_at__gt=moment + timedelta(seconds=passes)).exists(),
               timeout=20, message="the worker stopped running passes")


def test_a_killed_device_with_a_will_is_offline_within_seconds_and_online_again_when_back(
    private_broker, platform_env, start_ingest, start_process, simulate
):
    env = platform_env(private_broker, OFFLINE_AFTER_SECONDS=3600)
    ingest = start_ingest(private_broker, env=env)
    worker = start_process("process_tasks", "--duration=0", "--sleep=1", env=env)
    worker.wait_for_output(r"worker started")
    prefix = f"will-{uuid.uuid4().hex[:6]}"
    with_will = [f"{prefix}-{n:03d}" for n in (1, 2)]
    without_will = [f"{prefix}-quiet-001"]
    willing = simulate(prefix, 2)
    unwilling = simulate(f"{prefix}-quiet", 1, "--no-will")
    everyone = with_will + without_will
    wait_until(lambda: Device.objects.filter(pk__in=everyone, status=Device.Status.ONLINE,
                                             last_seen__isnull=False).count() == 3, timeout=20)
    wait_until(lambda: Device.objects.filter(pk__in=with_will, link_state=Device.LinkState.ONLINE).count() == 2,
               timeout=10, message="the simulator's `online` was not stored")

    killed_at = datetime.now(UTC)
    killed_monotonic = time.monotonic()
    willing.process.send_signal(signal.SIGKILL)
    unwilling.process.send_signal(signal.SIGKILL)  # cut without a DISCONNECT, and without a will

    offline = wait_until(lambda: (found := _offline_alerts(everyone)) and len(found) >= 2 and found,
                         timeout=1.5 * KEEPALIVE + OFFLINE_WITHIN + 15,
                         message="the devices with a will did not go OFFLINE")
    took = {alert.device_id: (alert.ts - killed_at).total_seconds() for alert in offline}
    print(f"kill to OFFLINE alert: {took} (s; keepalive {KEEPALIVE} s, in {time.monotonic() - killed_monotonic:.1f})")
    assert sorted(took) == with_will
    for alert in offline:
        assert alert.payload["reason"] == "will", alert.payload
    _assert_offline_soon_after_the_broker_noticed(private_broker, offline, willing.process.pid)
    assert Device.objects.filter(pk__in=with_will, status=Device.Status.OFFLINE).count() == 2

    # The will of the quiet one's fellow devices has long been handled; it had none: still ONLINE.
    _worker_passes_after(max(alert.ts for alert in offline))
    assert Device.objects.get(pk=without_will[0]).status == Device.Status.ONLINE
    assert not _offline_alerts(without_will)

    # A restarted ingest is sent the retained `offline` again: no second alert.
    assert ingest.terminate() == 0
    restarted_at = datetime.now(UTC)
    start_ingest(private_broker, env=env)
    _worker_passes_after(restarted_at, passes=3)
    assert len(_offline_alerts(with_will)) == 2

    # Back: the simulator says `online`, which counts as being heard.
    back = simulate(prefix, 2)
    wait_until(lambda: Alert.objects.filter(device_id__in=with_will, alert_type=Alert.Type.ONLINE).count() == 2,
               timeout=20, message="the devices did not come back ONLINE")
    assert Device.objects.filter(pk__in=with_will, status=Device.Status.ONLINE).count() == 2
    assert back.running
    assert "Traceback" not in worker.output(), worker.output()[-4000:]



def test_a_frozen_device_is_offline_within_seconds_of_its_keepalive_timeout(
    private_broker, platform_env, start_ingest, start_process, simulate
):
    env = platform_env(private_broker, OFFLINE_AFTER_SECONDS=3600)
    start_ingest(private_broker, env=env)
    start_process("process_tasks", "--duration=0", "--sleep=1", env=env).wait_for_output(r"worker started")
    prefix = f"frozen-{uuid.uuid4().hex[:6]}"
    device = f"{prefix}-001"
    frozen = simulate(prefix, 1)
    wait_until(lambda: Device.objects.filter(pk=device, link_state=Device.LinkState.ONLINE).exists(), timeout=20)

    stopped_at = datetime.now(UTC)
    frozen.process.send_signal(signal.SIGSTOP)  # its socket stays open and silent, as over a cut network
    [alert] = wait_until(lambda: _offline_alerts([device]), timeout=1.5 * KEEPALIVE + OFFLINE_WITHIN + 15,
                         message="the frozen device did not go OFFLINE")
    print(f"freeze to OFFLINE alert: {(alert.ts - stopped_at).total_seconds():.2f} s (keepalive {KEEPALIVE} s)")
    assert alert.payload["reason"] == "will"
    _assert_offline_soon_after_the_broker_noticed(private_broker, [alert], frozen.process.pid)
    assert (alert.ts - stopped_at).total_seconds() >= KEEPALIVE  # it was the will, at the timeout, not a guess
