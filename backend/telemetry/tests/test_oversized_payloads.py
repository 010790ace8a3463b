"""Oversized MQTT payloads: over 64 KiB is a stored rejection; far over, the broker refuses it unbuffered."""
import re
import threading
import uuid

import paho.mqtt.client as mqtt
import psutil
import pytest

from devtools.broker import PROJECT_CONFIG
from devtools.waiting import wait_until
from telemetry.models import RejectedMessage, Telemetry
from telemetry.payload import MAX_PAYLOAD_BYTES

pytestmark = pytest.mark.django_db(transaction=True)

TS = 1728481425000


def broker_max_packet_size() -> int:
    match = re.search(r"^max_packet_size\s+(\d+)\s*$", PROJECT_CONFIG.read_text(), re.MULTILINE)
    assert match, "mosquitto.conf sets no max_packet_size"
    return int(match.group(1))


def test_the_broker_bound_sits_above_the_contract_with_room_for_topic_and_headers():
    limit = broker_max_packet_size()
    largest_topic = len("devices/") + 64 + len("/telemetry")
    assert limit >= MAX_PAYLOAD_BYTES + largest_topic + 16 + 1024  # fixed header, length, packet id, margin
    assert limit <= 1024 * 1024


def test_a_payload_over_64_kib_is_kept_as_a_rejection_and_the_stream_goes_on(mqtt_broker, start_ingest,
                                                                             publisher_for):
    start_ingest(mqtt_broker)
    publisher = publisher_for(mqtt_broker)
    oversized = b'{"temperature": 20, "note": "' + b"x" * (MAX_PAYLOAD_BYTES + 1000) + b'"}'
    publisher.publish("devices/big-1/telemetry", oversized)
    publisher.reading("big-1", temperature=21.0, ts=TS)

    wait_until(lambda: RejectedMessage.objects.filter(topic="devices/big-1/telemetry").exists()
               and Telemetry.objects.filter(device_id="big-1").count() == 1)
    rejection = RejectedMessage.objects.get(topic="devices/big-1/telemetry")
    assert "larger than 65536 bytes" in rejection.reason
    assert len(rejection.payload) == RejectedMessage.RAW_PAYLOAD_LIMIT


def test_a_10_mb_publish_is_refused_by_the_broker_without_buffering_it(private_broker, start_ingest,
                                                                       publisher_for):
    start_ingest(private_broker)
    broker_process = psutil.Process(private_broker.process.pid)
    rss_before = broker_process.memory_info().rss

    disconnected = threading.Event()
    sender = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                         client_id=f"flood-{uuid.uuid4().hex[:8]}")
    sender.on_disconnect = lambda *args: disconnected.set()
    sender.connect("127.0.0.1", private_broker.port)
    sender.loop_start()
    try:
        info = sender.publish("devices/flood-1/telemetry", b"x" * (10 * 1024 * 1024), qos=1)
        assert disconnected.wait(10), "the broker kept the client that sent a 10 MB packet"
        assert not info.is_published()
    finally:
        sender.loop_stop()

    # The broker lives on, never held the 10 MB, and the ingest never saw them.
    assert broker_process.is_running()
    assert broker_process.memory_info().rss - rss_before < 4 * 1024 * 1024
    publisher = publisher_for(private_broker)
    publisher.reading("flood-1", temperature=22.0, ts=TS)
    wait_until(lambda: Telemetry.objects.filter(device_id="flood-1").count() == 1)
    assert not RejectedMessage.objects.filter(topic="devices/flood-1/telemetry").exists()
    assert "disconnected due to oversize packet" in private_broker.log_file.read_text()
