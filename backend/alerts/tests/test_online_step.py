"""The ONLINE step reads only the devices it has to act on, and brings every device back once."""
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from alerts import services
from alerts.models import Alert, DeviceAlertState
from devices.models import Device
from devtools.factories import make_device
from devtools.query_plans import plans_of

T0 = timezone.now()


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


def online_pass(seconds: float) -> int:
    """The ONLINE step of a pass `seconds` after T0 (one statement of it); the alerts it raised."""
    return services.devices_mark_online(now=at(seconds)).alerts


def offline_device(device_id: str = "d1") -> None:
    """A device silent since 100 s before T0, marked OFFLINE at T0."""
    make_device(device_id, last_seen=at(-100))
    services.devices_mark_offline(now=T0, offline_after=10)
    assert Device.objects.get(pk=device_id).status == Device.Status.OFFLINE


def heard(device_id: str, seconds: float) -> None:
    """A batch received `seconds` after T0 commits now (the ingest moves last_seen to its receive time)."""
    Device.objects.filter(pk=device_id).update(last_seen=at(seconds))


def online_alerts(device_id: str = "d1") -> int:
    return Alert.objects.filter(device_id=device_id, alert_type=Alert.Type.ONLINE).count()


def status_of(device_id: str = "d1") -> str:
    return Device.objects.get(pk=device_id).status


@pytest.mark.django_db
class TestOnlineStep:
    def test_a_device_that_sends_again_after_going_offline_comes_back_online_exactly_once(self):
        offline_device()
        assert Device.objects.get(pk="d1").offline_last_seen == at(-100)
        assert online_pass(1) == 0
        heard("d1", 5)
        for seconds in (6, 7, 8, 20):
            online_pass(seconds)
        assert status_of() == Device.Status.ONLINE
        assert online_alerts() == 1
        assert DeviceAlertState.objects.get(pk="d1").offline_since is None
        assert Device.objects.get(pk="d1").offline_last_seen is None

    def test_a_batch_received_long_before_it_commits_still_brings_its_device_back_at_the_next_pass(self):
        offline_device()
        online_pass(3600)
        heard("d1", 5)  # received an hour before the pass that follows its commit
        online_pass(3601)
        assert status_of() == Device.Status.ONLINE
        assert online_alerts() == 1

    def test_a_reading_older_than_the_one_recorded_at_the_flip_does_not_bring_it_back(self):
        offline_device()
        heard("d1", -200)
        online_pass(1)
        assert status_of() == Device.Status.OFFLINE
        assert online_alerts() == 0

    def test_a_device_set_offline_by_hand_is_adopted_at_the_next_pass_then_comes_back(self):
        make_device("d1", last_seen=at(-30))
        Device.objects.filter(pk="d1").update(status=Device.Status.OFFLINE)  # the admin
        online_pass(1)
        assert DeviceAlertState.objects.get(pk="d1").offline_since == at(1)
        assert Device.objects.get(pk="d1").offline_last_seen == at(-30)
        assert status_of() == Device.Status.OFFLINE
        assert online_alerts() == 0
        heard("d1", 2)
        online_pass(3)
        assert status_of() == Device.Status.ONLINE
        assert online_alerts() == 1

    def test_a_step_that_fails_mid_transaction_leaves_the_device_to_the_next_pass(self, monkeypatch):
        offline_device()
        heard("d1", 5)

        def crash(*args, **kwargs):
            raise RuntimeError("killed")

        with monkeypatch.context() as patch:
            patch.setattr(services, "alerts_raise", crash)
            with pytest.raises(RuntimeError):
                online_pass(30)
        assert status_of() == Device.Status.OFFLINE
        online_pass(31)
        assert status_of() == Device.Status.ONLINE
        assert online_alerts() == 1

    def test_a_quiet_step_reads_only_the_partial_index_of_devices_heard_again(self):
        for n in range(50):
            offline_device(f"d{n:02d}")
        make_device("on", last_seen=at(0))
        plans = plans_of(lambda: online_pass(1), containing='"offline_last_seen"')
        assert len(plans) == 1, plans  # nothing in the index: the step stops at its first read
        assert "device_heard_again" in plans[0], plans


@pytest.mark.django_db(transaction=True)
class TestOnlineStepConcurrent:
    def test_a_device_locked_by_a_worker_that_is_then_killed_is_flipped_at_the_next_pass(self, other_writer):
        offline_device()
        heard("d1", 5)
        with other_writer.cursor() as cursor:  # another worker's step holds the row, mid-transaction
            cursor.execute(f"SELECT 1 FROM {Device._meta.db_table} WHERE device_id = 'd1' FOR UPDATE")
        online_pass(30)
        assert status_of() == Device.Status.OFFLINE
        other_writer.rollback()  # that worker is killed: its flip never happens
        online_pass(40)
        assert status_of() == Device.Status.ONLINE
        assert online_alerts() == 1

    def test_two_workers_bring_every_device_back_online_exactly_once(self, other_writer):
        ids = [f"d{n:03d}" for n in range(300)]
        Device.objects.bulk_create(Device(device_id=pk, last_seen=timezone.now() - timedelta(seconds=100))
                                   for pk in ids)
        services.devices_mark_offline(now=timezone.now(), offline_after=10)
        Device.objects.update(last_seen=timezone.now())
        errors = []

        def worker():
            try:
                deadline = time.monotonic() + 30
                while Device.objects.filter(status=Device.Status.OFFLINE).exists() and time.monotonic() < deadline:
                    services.devices_mark_online(now=timezone.now(), limit=50)
            except Exception as error:  # reported below, in the test's thread
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert not Device.objects.filter(status=Device.Status.OFFLINE).exists()
        counts = Alert.objects.filter(alert_type=Alert.Type.ONLINE).values_list("device_id", flat=True)
        assert sorted(counts) == ids
