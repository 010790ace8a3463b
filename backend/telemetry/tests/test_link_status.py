"""The status topic: what the ingest accepts on devices/{id}/status, and how it lands in the link state."""
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts import services
from alerts.models import Alert
from devices.models import Device
from telemetry.ingest_metrics import reason_label
from telemetry.link_status import OFFLINE, ONLINE, LinkReport, is_status_topic, parse_status
from telemetry.models import RejectedMessage
from telemetry.payload import Rejection
from telemetry.services import RejectedInput, telemetry_store_batch

TOPIC = "devices/dev-1/status"


@pytest.mark.parametrize("payload", [b"online", b"offline"])
def test_online_and_offline_are_the_two_states(payload):
    assert parse_status(TOPIC, payload) == LinkReport("dev-1", payload.decode())


@pytest.mark.parametrize("payload", [b"", b"ONLINE", b"online\n", b'"offline"', b'{"state": "online"}', b"\xff"])
def test_anything_else_is_a_rejection_with_its_own_label(payload):
    outcome = parse_status(TOPIC, payload)
    assert isinstance(outcome, Rejection)
    assert outcome.reason == "status is neither online nor offline"
    assert reason_label(outcome.reason) == "status"


def test_a_status_topic_with_a_bad_device_id_is_a_topic_rejection():
    outcome = parse_status("devices/bad id/status", b"online")
    assert isinstance(outcome, Rejection) and reason_label(outcome.reason) == "topic"
    assert is_status_topic("devices/bad id/status") and not is_status_topic("devices/dev-1/telemetry")


def store_links(*links, rejections=()):
    return telemetry_store_batch(readings=[], rejections=list(rejections), known_device_ids=set(), links=list(links))


@pytest.mark.django_db
class TestStoringStatuses:
    def test_online_counts_as_heard_and_creates_an_unknown_device(self):
        at = timezone.now()
        result = store_links((LinkReport("new-dev", ONLINE), at))
        device = Device.objects.get(pk="new-dev")
        assert (device.status, device.last_seen, device.link_state, device.link_changed_at) == (
            Device.Status.ONLINE, at, Device.LinkState.ONLINE, at)
        assert result.statuses == 1

    def test_offline_of_an_unknown_device_creates_nothing(self):
        store_links((LinkReport("ghost", OFFLINE), timezone.now()))
        assert not Device.objects.filter(pk="ghost").exists()

    def test_offline_keeps_last_seen_and_an_older_status_never_replaces_a_newer_one(self):
        now = timezone.now()
        seen = now - timedelta(seconds=10)
        Device.objects.create(device_id="dev-1", last_seen=seen)
        store_links((LinkReport("dev-1", OFFLINE), now))
        assert Device.objects.get(pk="dev-1").last_seen == seen
        late = now - timedelta(seconds=1)
        store_links((LinkReport("dev-1", ONLINE), late))  # received before the offline, written after it
        device = Device.objects.get(pk="dev-1")
        # Still a sign of life at its time, but not the device's latest word on its link.
        assert (device.link_state, device.link_changed_at, device.last_seen) == (Device.LinkState.OFFLINE, now, late)

    def test_the_last_status_of_a_batch_wins(self):
        now = timezone.now()
        Device.objects.create(device_id="dev-1", last_seen=now)
        store_links((LinkReport("dev-1", ONLINE), now), (LinkReport("dev-1", OFFLINE), now))
        assert Device.objects.get(pk="dev-1").link_state == Device.LinkState.OFFLINE

    def test_a_bad_status_is_kept_as_a_rejection(self):
        now = timezone.now()
        result = store_links(rejections=[RejectedInput(TOPIC, b"maybe", "status is neither online nor offline", now)])
        assert result.rejected == 1
        assert RejectedMessage.objects.get().reason == "status is neither online nor offline"


@pytest.mark.django_db
class TestWillOffline:
    """The worker's pass: an `offline` newer than the last reading is OFFLINE at once, whatever the silence allowed."""

    def offline_alerts(self, device_id):
        return list(Alert.objects.filter(device_id=device_id, alert_type=Alert.Type.OFFLINE))

    def test_a_will_makes_a_device_offline_once_with_reason_will(self):
        now = timezone.now()
        Device.objects.create(device_id="dev-1", last_seen=now - timedelta(seconds=1))
        store_links((LinkReport("dev-1", OFFLINE), now))
        for _ in range(2):  # a second pass, or the same `offline` again, raises nothing more
            services.alerts_evaluate(offline_after=3600)
            store_links((LinkReport("dev-1", OFFLINE), now))
        assert Device.objects.get(pk="dev-1").status == Device.Status.OFFLINE
        [alert] = self.offline_alerts("dev-1")
        assert alert.payload["reason"] == "will" and "last_seen" in alert.payload

    def test_an_offline_older_than_the_last_reading_is_past_news(self):
        now = timezone.now()
        Device.objects.create(device_id="dev-1", last_seen=now, link_state=Device.LinkState.OFFLINE,
                              link_changed_at=now - timedelta(seconds=5))
        services.alerts_evaluate(offline_after=3600)
        assert Device.objects.get(pk="dev-1").status == Device.Status.ONLINE
        assert not self.offline_alerts("dev-1")

    def test_online_after_the_will_brings_the_device_back_through_the_online_rule(self):
        now = timezone.now()
        Device.objects.create(device_id="dev-1", last_seen=now - timedelta(seconds=1))
        store_links((LinkReport("dev-1", OFFLINE), now))
        services.alerts_evaluate(offline_after=3600)
        store_links((LinkReport("dev-1", ONLINE), now + timedelta(seconds=1)))
        services.alerts_evaluate(offline_after=3600)
        assert Device.objects.get(pk="dev-1").status == Device.Status.ONLINE
        assert Alert.objects.filter(device_id="dev-1", alert_type=Alert.Type.ONLINE).count() == 1
        assert len(self.offline_alerts("dev-1")) == 1

    def test_devices_without_a_will_are_left_to_the_silence_rule(self):
        Device.objects.create(device_id="dev-1", last_seen=timezone.now())
        services.alerts_evaluate(offline_after=3600)
        assert Device.objects.get(pk="dev-1").status == Device.Status.ONLINE
