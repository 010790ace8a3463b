"""`manage.py seed_telemetry`: a fleet's synthetic history, seeded a chunk of devices per statement."""
import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Max, Min
from django.utils import timezone

from telemetry.management.commands import seed_telemetry
from telemetry.models import Telemetry


@pytest.mark.django_db
def test_a_fleet_seeded_in_chunks_gets_every_reading_of_every_device_once(monkeypatch):
    monkeypatch.setattr(seed_telemetry, "ROWS_PER_STATEMENT", 8)  # two devices of four readings a statement
    call_command("seed_telemetry", devices=5, readings=20, step=15, stdout=io.StringIO())

    per_device = dict(Telemetry.objects.values_list("device_id").annotate(n=Count("id")).order_by())
    assert per_device == {f"seed-{n:05d}": 4 for n in range(1, 6)}
    span = Telemetry.objects.filter(device_id="seed-00005").aggregate(first=Min("ts"), last=Max("ts"))
    assert span["last"] - span["first"] == timedelta(seconds=45)
    # Each device's values follow its place in the fleet, not its place in a chunk.
    newest = {row.device_id: row.temperature for row in Telemetry.objects.filter(ts=span["last"])}
    assert len(set(newest.values())) == 5


@pytest.mark.django_db
def test_ahead_ends_the_history_that_many_seconds_after_now_and_no_further_than_five_minutes():
    before = timezone.now()
    call_command("seed_telemetry", devices=2, readings=4, step=60, ahead=300, stdout=io.StringIO())

    newest = Telemetry.objects.aggregate(last=Max("ts"))["last"]
    assert before + timedelta(seconds=299) <= newest <= timezone.now() + timedelta(seconds=300)
    with pytest.raises(CommandError, match="--ahead"):
        call_command("seed_telemetry", devices=2, readings=4, ahead=301, stdout=io.StringIO())


@pytest.mark.django_db
def test_seeding_again_keeps_the_readings_there_and_adds_the_newer_ones(monkeypatch):
    now = timezone.now()
    monkeypatch.setattr(seed_telemetry.timezone, "now", lambda: now)  # both runs on one grid of seconds
    call_command("seed_telemetry", devices=2, readings=20, step=60, stdout=io.StringIO())
    call_command("seed_telemetry", devices=2, readings=20, step=60, ahead=120, stdout=io.StringIO())

    assert Telemetry.objects.count() == 2 * (10 + 2)
