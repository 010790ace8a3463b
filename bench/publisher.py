"""Publish synthetic readings at QoS 1 as fast as the broker acks them, or at a set rate.

Runs as its own process so a benchmark measures the ingest, not the publisher.
Prints one JSON line with what it did.
"""
import argparse
import json
import threading
import time

import paho.mqtt.client as mqtt

WINDOW = 100  # publishes in flight; paho is fastest around here (docs/performance.md)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--first-device", type=int, default=1)
    parser.add_argument("--devices", type=int, required=True)
    parser.add_argument("--per-device", type=int, required=True)
    parser.add_argument("--rate", type=float, default=0, help="messages/s; 0 = as fast as acked")
    parser.add_argument("--live-ts", action="store_true", help="ts = publish time (latency runs)")
    args = parser.parse_args()

    in_flight = threading.Semaphore(WINDOW)
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=f"{args.prefix}-pub-{args.first_device}")
    client.max_inflight_messages_set(WINDOW)
    client.on_publish = lambda *_: in_flight.release()
    client.connect("127.0.0.1", args.port)
    client.loop_start()

    devices = [f"{args.prefix}-{n:05d}" for n in range(args.first_device, args.first_device + args.devices)]
    topics = [f"devices/{device}/telemetry" for device in devices]
    base_ms = int(time.time() * 1000) - args.per_device * 1000
    started = time.monotonic()
    sent = 0
    for step in range(args.per_device):
        for device, topic in zip(devices, topics):
            if args.rate:
                delay = started + sent / args.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            ts = int(time.time() * 1000) if args.live_ts else base_ms + step * 1000
            body = f'{{"deviceId":"{device}","ts":{ts},"temperature":{20 + sent % 150 / 10:.1f},"humidity":{40 + sent % 200 / 10:.1f}}}'
            in_flight.acquire()
            client.publish(topic, body, qos=1)
            sent += 1
    for _ in range(WINDOW):
        in_flight.acquire()
    elapsed = time.monotonic() - started
    client.disconnect()
    client.loop_stop()
    print(json.dumps({"published": sent, "seconds": elapsed}), flush=True)


if __name__ == "__main__":
    main()
