"""/api/health/ with several ingest members: each member's heartbeat counts, a dead one shows."""
import signal
from datetime import timedelta

import pytest
from django.utils import timezone

from devtools.waiting import wait_until
from health.models import Heartbeat
from health.selectors import INGEST_MEMBER_WINDOW, health_report
from health.services import heartbeat_beat

STALE_SECONDS = 8.0  # above the ingest's 5 s beat, so a live member never looks stale


def beat(client_id: str, state: str, seconds_ago: float = 0.0) -> None:
    Heartbeat.objects.update_or_create(
        process=Heartbeat.ingest_member_key(client_id),
        defaults={"state": state, "updated_at": timezone.now() - timedelta(seconds=seconds_ago)},
    )


@pytest.mark.django_db
class TestMembers:
    @pytest.fixture(autouse=True)
    def worker_runs(self, settings):
        settings.HEARTBEAT_STALE_SECONDS = STALE_SECONDS
        heartbeat_beat(process=Heartbeat.Process.WORKER, state="running")

    def test_one_connected_member_is_connected(self):
        beat("ingest-0", "connected")
        assert health_report()["mqtt"] == "connected"

    def test_a_member_gone_stale_makes_mqtt_disconnected_while_another_is_connected(self):
        beat("ingest-0", "connected")
        beat("ingest-1", "connected", seconds_ago=STALE_SECONDS + 1)
        report = health_report()
        assert (report["mqtt"], report["status"]) == ("disconnected", "degraded")

    def test_a_member_that_lost_its_broker_makes_mqtt_disconnected(self):
        beat("ingest-0", "connected")
        beat("ingest-1", "disconnected")
        assert health_report()["mqtt"] == "disconnected"

    def test_a_stopped_member_and_one_not_heard_of_for_minutes_no_longer_count(self):
        beat("ingest-0", "connected")
        beat("ingest-1", "stopped")
        beat("ingest-2", "connected", seconds_ago=INGEST_MEMBER_WINDOW.total_seconds() + 1)
        assert health_report()["mqtt"] == "connected"

    def test_no_member_at_all_is_disconnected(self):
        beat("ingest-0", "stopped")
        assert health_report()["mqtt"] == "disconnected"


@pytest.mark.django_db(transaction=True)
def test_a_killed_member_shows_in_health_and_a_stopped_one_does_not(
    private_broker, platform_env, start_ingest, client, settings
):
    settings.HEARTBEAT_STALE_SECONDS = STALE_SECONDS
    env = platform_env(private_broker, HEARTBEAT_STALE_SECONDS=STALE_SECONDS)
    first = start_ingest(private_broker, "--shared-group", "ingest", env=env)
    second = start_ingest(private_broker, "--shared-group", "ingest", env=env)
    heartbeat_beat(process=Heartbeat.Process.WORKER, state="running")

    def mqtt() -> str:
        heartbeat_beat(process=Heartbeat.Process.WORKER, state="running")  # no worker here: only mqtt is tested
        return client.get("/api/health/").json()["mqtt"]

    members = Heartbeat.objects.filter(process__startswith="ingest:", state="connected")
    wait_until(lambda: members.count() == 2, timeout=15, message="two member heartbeats never appeared")
    assert mqtt() == "connected"

    second.process.send_signal(signal.SIGKILL)
    second.process.wait()
    wait_until(lambda: mqtt() == "disconnected", timeout=STALE_SECONDS + 10,
               message="a killed member stayed invisible to /api/health/")
    assert first.running

    second.start()
    wait_until(lambda: mqtt() == "connected", timeout=20, message="the restarted member was not counted again")
    assert second.terminate() == 0
    assert Heartbeat.objects.filter(process__startswith="ingest:", state="stopped").count() == 1
    assert mqtt() == "connected"
    assert first.terminate() == 0
    assert mqtt() == "disconnected"
