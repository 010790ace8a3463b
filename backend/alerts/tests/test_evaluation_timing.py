"""Time per evaluation pass with 10,000 devices (printed, not asserted: run with -s to see it).

    .venv/bin/python -m pytest backend/alerts/tests/test_evaluation_timing.py -s
    DATABASE_URL=postgres://... .venv/bin/python -m pytest backend/alerts/tests/test_evaluation_timing.py -s
"""
import statistics
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from alerts import services
from alerts.models import Alert
from devices.models import Device
from telemetry.models import Telemetry

pytestmark = pytest.mark.django_db

DEVICES = 10_000
OFFLINE_AFTER = 10.0


def timed_passes(count: int) -> list[float]:
    """Milliseconds taken by `count` consecutive passes."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        services.alerts_evaluate(threshold=30.0, offline_after=OFFLINE_AFTER)
        times.append((time.perf_counter() - started) * 1000)
    return times


def describe(times: list[float]) -> str:
    return f"median {statistics.median(times):7.1f} ms   max {max(times):7.1f} ms   ({len(times)} passes)"


def analyze() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def test_time_per_evaluation_pass_with_ten_thousand_devices():
    now = timezone.now()
    ids = [f"dev-{i:05d}" for i in range(DEVICES)]
    Device.objects.bulk_create(Device(device_id=d, last_seen=now) for d in ids)
    services.alerts_evaluate(threshold=30.0, offline_after=OFFLINE_AFTER)
    analyze()
    results = {}

    results["10,000 ONLINE devices, nothing due, no new readings"] = timed_passes(20)

    def one_reading_each(second: int, hot_every: int | None) -> None:
        ts = now + timedelta(seconds=second)
        Telemetry.objects.bulk_create(
            Telemetry(device_id=d, ts=ts, received_at=now,
                      temperature=31.0 if hot_every and i % hot_every == 0 else 25.0)
            for i, d in enumerate(ids)
        )

    one_reading_each(1, hot_every=None)
    results["10,000 new readings, none above the threshold"] = timed_passes(1)
    one_reading_each(2, hot_every=10)
    results["10,000 new readings, 1,000 devices start an episode"] = timed_passes(1)
    one_reading_each(3, hot_every=10)
    results["10,000 new readings, those 1,000 still hot"] = timed_passes(1)

    Device.objects.update(last_seen=now - timedelta(seconds=OFFLINE_AFTER + 1))
    results["all 10,000 devices due OFFLINE in the same pass"] = timed_passes(1)
    analyze()
    results["10,000 OFFLINE devices, still silent"] = timed_passes(20)

    Device.objects.update(last_seen=timezone.now())
    results["all 10,000 devices back ONLINE in the same pass"] = timed_passes(1)
    results["10,000 ONLINE devices again, nothing due"] = timed_passes(20)
    Device.objects.update(last_seen=timezone.now() - timedelta(seconds=OFFLINE_AFTER + 1))
    results["all 10,000 due OFFLINE again (state rows exist now)"] = timed_passes(1)

    assert Alert.objects.filter(alert_type="OFFLINE").count() == 2 * DEVICES
    assert Alert.objects.filter(alert_type="ONLINE").count() == DEVICES
    assert Alert.objects.filter(alert_type="HIGH_TEMP").count() == DEVICES // 10

    deadline = timezone.now() - timedelta(seconds=OFFLINE_AFTER)
    plan = Device.objects.filter(status="ONLINE", last_seen__lt=deadline).order_by("last_seen").explain()
    assert "device_status_last_seen" in plan, plan

    print(f"\nalert evaluation pass on {connection.vendor}, {DEVICES:,} devices:")
    for name, times in results.items():
        print(f"  {name:<55} {describe(times)}")
    print(f"  plan of the OFFLINE query: {' '.join(plan.split())}")
