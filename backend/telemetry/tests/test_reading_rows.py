"""A stored reading keeps every value in its own column, on SQLite and on PostgreSQL alike."""
from datetime import UTC, datetime

import pytest

from telemetry.models import Telemetry
from telemetry.payload import Reading
from telemetry.services import telemetry_store_batch

pytestmark = pytest.mark.django_db

TS = datetime(2026, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)
RECEIVED = datetime(2026, 1, 2, 3, 4, 6, 456000, tzinfo=UTC)


def test_every_value_of_a_reading_lands_in_its_own_column():
    reading = Reading(device_id="d1", ts=TS, temperature=21.5, humidity=48.25, battery=87.0, extra={"rssi": -70})

    telemetry_store_batch(readings=[(reading, RECEIVED)], rejections=[], known_device_ids=set())

    row = Telemetry.objects.values("device_id", "ts", "temperature", "humidity", "battery", "extra",
                                   "received_at").get()
    assert row == {"device_id": "d1", "ts": TS, "temperature": 21.5, "humidity": 48.25, "battery": 87.0,
                   "extra": {"rssi": -70}, "received_at": RECEIVED}
