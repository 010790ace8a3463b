"""The two reference subscribers a benchmark compares the ingest with.

- count: paho, QoS 1, auto-ack, only counts: the ceiling of the broker -> Python path.
- naive: paho, QoS 1, auto-ack, `Telemetry.objects.create` per message: what a
  hand-rolled subscriber does (no batching, no validation beyond json.loads).
Both use a persistent session, so a backlog can be queued for them before they start,
and print one JSON line when they have seen `--expect` messages.
"""
import argparse
import json
import os
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=["count", "naive"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--expect", type=int, default=0, help="exit after this many; 0 = subscribe and exit")
    args = parser.parse_args()

    store = _naive_store() if args.kind == "naive" else None
    done = threading.Event()
    state = {"n": 0, "first": None, "first_cpu": 0.0}

    def on_message(client, userdata, message):
        if state["first"] is None:
            state["first"], state["first_cpu"] = time.monotonic(), time.process_time()
        if store:
            store(message)
        state["n"] += 1
        if state["n"] >= args.expect:
            done.set()

    def on_connect(client, userdata, flags, reason_code, properties):
        client.subscribe("devices/+/telemetry", qos=1)
        if not args.expect:
            done.set()

    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=args.client_id,
                         clean_session=False)
    client.on_connect = on_connect
    client.on_message = on_message
    client.connect("127.0.0.1", args.port)
    started = time.monotonic()
    client.loop_start()
    done.wait()
    finished, finished_cpu = time.monotonic(), time.process_time()
    time.sleep(0.2)  # let the last PUBACKs leave
    client.disconnect()
    client.loop_stop()
    # `first_to_last` times the drain alone, as the PostgreSQL drain times the ingest (first to last commit).
    print(json.dumps({"received": state["n"], "seconds": finished - started,
                      "first_to_last": finished - (state["first"] or finished),
                      "cpu_first_to_last": finished_cpu - state["first_cpu"]}), flush=True)


def _naive_store():
    sys.path.insert(0, str(REPO / "backend"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from devices.models import Device
    from telemetry.models import Telemetry

    def store(message):
        data = json.loads(message.payload)
        device, _ = Device.objects.get_or_create(device_id=data["deviceId"])
        Telemetry.objects.create(
            device=device,
            ts=datetime.fromtimestamp(data["ts"] / 1000, tz=UTC),
            temperature=data.get("temperature"),
            humidity=data.get("humidity"),
            received_at=datetime.now(tz=UTC),
        )

    return store


if __name__ == "__main__":
    main()
