"""Minute rollups: the worker's readings step adds each reading once; fleet stats and the ingest rate read them."""
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from alerts.high_temp import high_temp_evaluate
from devices.models import Device
from telemetry.models import DeviceMinute, FleetMinute, Telemetry
from telemetry.retention import rollups_prune
from telemetry.rollups import minute_of
from telemetry.selectors import fleet_window_stats

pytestmark = pytest.mark.django_db


def readings(device_id: str, values, *, start: datetime, received_at: datetime | None = None) -> None:
    Device.objects.get_or_create(device_id=device_id)
    Telemetry.objects.bulk_create(
        Telemetry(device_id=device_id, ts=start + timedelta(seconds=i), temperature=t, humidity=h,
                  received_at=received_at or timezone.now())
        for i, (t, h) in enumerate(values)
    )


def test_the_readings_step_adds_each_reading_to_its_minute_once():
    minute = minute_of(timezone.now()) - timedelta(minutes=2)
    readings("a", [(20.0, 40.0), (22.0, None), (None, 50.0)], start=minute)
    high_temp_evaluate()
    high_temp_evaluate()  # nothing new: nothing added again
    row = DeviceMinute.objects.get(device_id="a")
    assert (row.minute, row.count, row.temperature_count, row.temperature_sum, row.humidity_count,
            row.humidity_sum) == (minute, 3, 2, 42.0, 2, 90.0)
    readings("a", [(30.0, 60.0)], start=minute + timedelta(seconds=30))
    high_temp_evaluate()
    assert DeviceMinute.objects.get(device_id="a").count == 4
    assert sum(FleetMinute.objects.values_list("stored", flat=True)) == 4


def test_fleet_stats_average_the_minutes_of_the_window_and_longer_windows_read_the_readings(settings):
    settings.ROLLUP_RETENTION_MINUTES = 60
    now = timezone.now()
    readings("a", [(20.0, 40.0), (30.0, 60.0)], start=now - timedelta(minutes=1))
    readings("b", [(10.0, None)], start=now - timedelta(minutes=30))
    high_temp_evaluate()
    assert fleet_window_stats(window=timedelta(minutes=5)).rows == [
        {"device_id": "a", "avg_temperature": 25.0, "avg_humidity": 50.0, "data_points": 2}]
    DeviceMinute.objects.all().delete()  # the long window does not look at the rollups
    assert [row["device_id"] for row in fleet_window_stats(window=timedelta(hours=2)).rows] == ["a", "b"]


def test_ingest_rate_is_the_last_60_minutes_oldest_first_with_zeros(client):
    now = timezone.now()
    readings("a", [(20.0, None)] * 3, start=now - timedelta(hours=1), received_at=now - timedelta(minutes=10))
    readings("b", [(20.0, None)] * 2, start=now, received_at=now)
    readings("c", [(20.0, None)], start=now, received_at=now - timedelta(hours=3))  # before the hour
    high_temp_evaluate()
    body = client.get("/api/stats/ingest-rate/").json()
    assert len(body) == 60 and set(body[0]) == {"minute", "stored"}
    minutes = [datetime.fromisoformat(row["minute"]) for row in body]
    assert minutes == [minute_of(now) - timedelta(minutes=59 - n) for n in range(60)]
    assert body[-1]["stored"] == 2 and body[-11]["stored"] == 3 and sum(row["stored"] for row in body) == 5
    assert body[0]["minute"].endswith(":00.000Z")


def test_the_prune_drops_device_minutes_past_their_retention_and_fleet_minutes_past_theirs(settings):
    settings.ROLLUP_RETENTION_MINUTES, settings.FLEET_RATE_RETENTION_HOURS = 60, 24
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    Device.objects.create(device_id="a")
    for minutes in (5, 59, 61, 600):
        DeviceMinute.objects.create(device_id="a", minute=now - timedelta(minutes=minutes), count=1)
        FleetMinute.objects.create(minute=now - timedelta(minutes=minutes), stored=1)
    FleetMinute.objects.create(minute=now - timedelta(hours=25), stored=1)
    rollups_prune(now=now)
    assert sorted(DeviceMinute.objects.values_list("minute", flat=True)) == [
        now - timedelta(minutes=59), now - timedelta(minutes=5)]
    assert FleetMinute.objects.count() == 4
