"""On PostgreSQL, a reading whose transaction commits after a higher id is still evaluated once."""
import pytest
from django.utils import timezone

from alerts import high_temp
from alerts.models import Alert, ReadingWatermark
from devtools.factories import make_device, make_temperature_readings
from telemetry.models import Telemetry

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_reading_committed_after_a_higher_id_raises_its_alert_once(other_writer):
    make_device("slow")
    make_device("fast")
    table = Telemetry._meta.db_table
    with other_writer.cursor() as cursor:  # opens a transaction that holds its id uncommitted
        cursor.execute(
            f"INSERT INTO {table} (device_id, ts, temperature, received_at) VALUES (%s, %s, %s, %s) RETURNING id",
            ["slow", timezone.now(), 40.0, timezone.now()],
        )
        slow_id = cursor.fetchone()[0]
    [fast] = make_temperature_readings("fast", [41.0])
    assert fast.id > slow_id

    high_temp.high_temp_evaluate(threshold=30.0)
    assert list(Alert.objects.values_list("device_id", flat=True)) == ["fast"]
    mark = ReadingWatermark.objects.get()
    assert mark.position == fast.id
    assert any(gap["lo"] <= slow_id <= gap["hi"] for gap in mark.gaps)

    high_temp.high_temp_evaluate(threshold=30.0)  # still running: the gap stays open
    assert ReadingWatermark.objects.get().gaps

    other_writer.commit()
    for _ in range(3):
        high_temp.high_temp_evaluate(threshold=30.0)
    assert sorted(Alert.objects.values_list("device_id", flat=True)) == ["fast", "slow"]
    assert ReadingWatermark.objects.get().gaps == []


def test_an_id_whose_transaction_rolled_back_is_given_up_once_it_is_over(other_writer):
    make_device("gone")
    make_device("kept")
    with other_writer.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Telemetry._meta.db_table} (device_id, ts, temperature, received_at) VALUES (%s, %s, %s, %s)",
            ["gone", timezone.now(), 40.0, timezone.now()],
        )
    make_temperature_readings("kept", [20.0])
    high_temp.high_temp_evaluate(threshold=30.0)
    assert ReadingWatermark.objects.get().gaps
    other_writer.rollback()
    high_temp.high_temp_evaluate(threshold=30.0)
    assert ReadingWatermark.objects.get().gaps == []
    assert not Alert.objects.exists()
