"""A flood of bad messages through a real broker and ingest: all counted, a sample stored."""
import pytest
from django.db.models import Count
from django.db.models.functions import TruncHour

from devtools.waiting import wait_until
from telemetry.models import RejectedMessage, Telemetry

pytestmark = pytest.mark.django_db(transaction=True)

FLOOD = 300
SAMPLE = 10  # REJECTIONS_SAMPLE_PER_DEVICE's default


def test_a_flood_from_one_device_stores_at_most_the_sample_and_the_ingest_counts_every_message(
    mqtt_broker, start_ingest, publisher_for
):
    ingest = start_ingest(mqtt_broker)
    publisher = publisher_for(mqtt_broker)
    for n in range(FLOOD):
        # Two JSON errors at ever-changing positions: one reason kind, "invalid JSON".
        publisher.publish("devices/flooder/telemetry", b"junk %d" % n if n % 2 else b'{"temperature": %d' % n)
    publisher.reading("bystander", temperature=20.0)

    ingest.wait_for_output(rf"totals: [^)]*\brejected={FLOOD}\b", timeout=30)
    wait_until(lambda: Telemetry.objects.filter(device_id="bystander").count() == 1)
    per_hour = dict(RejectedMessage.objects.filter(device_id="flooder")
                    .annotate(hour=TruncHour("received_at")).values_list("hour").annotate(n=Count("id")))
    assert per_hour, "no sample of the flood was kept"
    assert all(count <= SAMPLE for count in per_hour.values()), per_hour
    assert RejectedMessage.objects.count() == sum(per_hour.values())
