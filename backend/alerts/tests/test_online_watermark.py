"""The ONLINE step reads only devices heard since its watermark, and still brings every device back once."""
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from alerts import services
from alerts.models import Alert, DeviceAlertState, HeardWatermark
from devices.models import Device
from devtools.factories import make_device
from devtools.query_plans import plans_of

T0 = timezone.now()


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


def online_pass(seconds: float) -> int:
    """The ONLINE step of a pass begun `seconds` after T0."""
    return services.devices_mark_heard_online(now=at(seconds))


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
class TestOnlineWatermark:
    def test_a_device_that_sends_again_after_going_offline_comes_back_online_exactly_once(self):
        online_pass(0)  # the first pass ever looks at every OFFLINE device and sets the watermark
        offline_device()
        heard("d1", 5)
        for seconds in (6, 7, 8, 20):
            online_pass(seconds)
        assert status_of() == Device.Status.ONLINE
        assert online_alerts() == 1
        assert DeviceAlertState.objects.get(pk="d1").offline_since is None

    def test_a_batch_committed_after_the_pass_but_within_the_overlap_brings_its_device_back(self):
        online_pass(0)
        offline_device()
        online_pass(20)
        assert HeardWatermark.objects.get().heard_until == at(20) - services.HEARD_OVERLAP
        heard("d1", 15)  # received before the pass at 20 s, committed after it
        online_pass(21)
        assert status_of() == Device.Status.ONLINE
        assert online_alerts() == 1

    def test_a_batch_committed_later_than_the_overlap_waits_for_the_next_full_scan(self):
        online_pass(0)
        offline_device()
        online_pass(20)
        heard("d1", 5)  # received 15 s before the pass at 20 s, committed after it
        online_pass(21)
        online_pass(30)
        assert status_of() == Device.Status.OFFLINE  # behind the watermark: the passes do not read it
        online_pass(services.HEARD_FULL_SCAN_EVERY.total_seconds())
        online_pass(61)
        assert status_of() == Device.Status.ONLINE
        assert online_alerts() == 1

    def test_a_device_set_offline_by_hand_is_adopted_by_the_full_scan_then_comes_back(self):
        make_device("d1", last_seen=at(-30))
        online_pass(0)
        Device.objects.filter(pk="d1").update(status=Device.Status.OFFLINE)  # the admin
        online_pass(services.HEARD_FULL_SCAN_EVERY.total_seconds())
        assert DeviceAlertState.objects.get(pk="d1").offline_since is not None
        assert status_of() == Device.Status.OFFLINE
        heard("d1", 61)
        online_pass(62)
        assert status_of() == Device.Status.ONLINE
        assert online_alerts() == 1

    def test_a_step_that_fails_mid_transaction_leaves_the_device_to_the_next_pass(self, monkeypatch):
        online_pass(0)
        offline_device()
        heard("d1", 5)
        before = HeardWatermark.objects.get().heard_until

        def crash(*args, **kwargs):
            raise RuntimeError("killed")

        with monkeypatch.context() as patch:
            patch.setattr(services, "alerts_raise", crash)
            with pytest.raises(RuntimeError):
                online_pass(30)
        assert status_of() == Device.Status.OFFLINE
        assert HeardWatermark.objects.get().heard_until == before
        online_pass(31)
        assert status_of() == Device.Status.ONLINE
        assert online_alerts() == 1

    def test_a_quiet_pass_reads_the_devices_heard_since_the_watermark_by_the_status_last_seen_index(self):
        online_pass(0)
        offline_device()
        plans = plans_of(lambda: online_pass(1), containing='"last_seen" >')
        assert len(plans) == 1, plans  # the oldest due past the watermark: none, so nothing else
        for plan in plans:
            if connection.vendor == "sqlite":
                assert "device_status_last_seen" in plan, plan
            else:
                assert "Seq Scan" not in plan or "device_status_last_seen" in plan, plan


@pytest.mark.django_db(transaction=True)
class TestOnlineWatermarkConcurrent:
    def test_a_device_locked_by_a_worker_that_is_then_killed_is_not_left_behind_the_watermark(self, other_writer):
        online_pass(0)
        offline_device()
        heard("d1", 5)
        with other_writer.cursor() as cursor:  # another worker's step holds the row, mid-transaction
            cursor.execute(f"SELECT 1 FROM {Device._meta.db_table} WHERE device_id = 'd1' FOR UPDATE")
        online_pass(30)
        assert status_of() == Device.Status.OFFLINE
        assert HeardWatermark.objects.get().heard_until < at(5)
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
                    services.devices_mark_heard_online()
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
