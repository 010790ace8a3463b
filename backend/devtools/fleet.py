"""A QoS 1 fleet publisher run as its own process, and the handle tests and benchmarks hold on it.

One paho client publishes the readings of N devices round-robin (reading n of a device
has ts = ts0 + n * ts_step_ms), keeps at most `window` publishes unacknowledged,
reconnects by itself, prints a progress line four times a second and, at the end, one
JSON line and (with --result) which readings the broker acknowledged (PUBACK):

    python -m devtools.fleet --port 1883 --prefix bench --devices 100 --count 200

It is a process of its own so that a benchmark or a fault test measures the ingest,
not the publisher (docs/performance.md, "Rates of the parts").
"""
import argparse
import json
import re
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from devtools.processes import ManagedProcess
from devtools.waiting import wait_until

# Publishes in flight; one paho publisher is fastest around here (docs/performance.md, "Rates of the parts").
WINDOW = 100
PROGRESS_SECONDS = 0.25
# A fixed epoch ms (2024-10-09) for streams whose timestamps must not depend on the clock.
FIXED_TS0 = 1_728_481_425_000


def device_ids(prefix: str, first: int, count: int) -> list[str]:
    return [f"{prefix}-{n:05d}" for n in range(first, first + count)]


class _Acks:
    """Connections and PUBACKs counted from paho's thread; a free slot of the window per PUBACK."""

    def __init__(self, window: int) -> None:
        self.window = threading.Semaphore(window)
        self.acked = 0  # written by paho's thread only
        self.connects = 0

    def on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if not reason_code.is_failure:
            self.connects += 1

    def on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self.acked += 1
        self.window.release()


def publish_fleet(args: argparse.Namespace) -> dict:
    """Publish as `args` say; what was sent and, by device, the reading numbers the broker acknowledged."""
    devices = device_ids(args.prefix, args.first_device, args.devices)
    acks = _Acks(args.window)
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                         client_id=args.client_id or f"{args.prefix}-pub-{args.first_device}", clean_session=True)
    client.max_inflight_messages_set(args.window)
    client.reconnect_delay_set(min_delay=0.1, max_delay=1.0)
    client.on_connect = acks.on_connect
    client.on_publish = acks.on_publish
    client.connect_async(args.host, args.port, keepalive=10)
    client.loop_start()
    ts0 = args.ts0 if args.ts0 is not None else int(time.time() * 1000) - (args.count or 0) * args.ts_step_ms

    sent, n, published = 0, 0, []
    started = last_progress = time.monotonic()

    def progress(force: bool = False) -> None:
        nonlocal last_progress
        now = time.monotonic()
        if force or now - last_progress >= PROGRESS_SECONDS:
            last_progress = now
            print(f"progress sent={sent} acked={acks.acked} connects={acks.connects} elapsed={now - started:.2f}",
                  flush=True)

    while (args.count is None or n < args.count) and (args.duration is None
                                                       or time.monotonic() - started < args.duration):
        for index, device in enumerate(devices):
            while not acks.window.acquire(timeout=PROGRESS_SECONDS):
                progress()
            if args.rate:
                ahead = started + sent / args.rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
            ts = int(time.time() * 1000) if args.live_ts else ts0 + n * args.ts_step_ms
            body = (f'{{"deviceId":"{device}","ts":{ts},"temperature":{20 + sent % 150 / 10:.1f},'
                    f'"humidity":{40 + sent % 200 / 10:.1f}}}')
            published.append((client.publish(f"devices/{device}/telemetry", body, qos=1), index, n))
            sent += 1
            progress()
        n += 1

    deadline = time.monotonic() + args.drain_timeout
    while acks.acked < sent and time.monotonic() < deadline:
        acks.window.acquire(timeout=PROGRESS_SECONDS)
        progress()
    seconds = time.monotonic() - started
    progress(force=True)
    acked: dict[str, list[int]] = {device: [] for device in devices}
    for info, index, number in published:
        # is_published() raises for a message first published while disconnected, even once
        # it has been resent and acknowledged; the flag itself says whether PUBACK came.
        if info._published:
            acked[devices[index]].append(number)
    client.disconnect()
    client.loop_stop()
    return {"sent": sent, "acked": acked, "connects": acks.connects, "seconds": seconds, "ts0": ts0,
            "ts_step_ms": args.ts_step_ms}


def parser() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(prog="python -m devtools.fleet", description=__doc__,
                                      formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--host", default="127.0.0.1")
    options.add_argument("--port", type=int, required=True)
    options.add_argument("--client-id", help="default: PREFIX-pub-FIRST_DEVICE")
    options.add_argument("--prefix", default="bench", help="device ids are PREFIX-00001, PREFIX-00002, ...")
    options.add_argument("--first-device", type=int, default=1)
    options.add_argument("--devices", type=int, required=True)
    options.add_argument("--count", type=int, help="readings per device (default: until --duration ends)")
    options.add_argument("--duration", type=float, help="seconds to publish for")
    options.add_argument("--rate", type=float, default=0, help="messages/s over the fleet; 0 = as fast as acked")
    options.add_argument("--window", type=int, default=WINDOW, help="publishes in flight")
    options.add_argument("--ts0", type=int, help="epoch ms of reading 0 (default: COUNT steps before now)")
    options.add_argument("--ts-step-ms", type=int, default=1000, help="ms between a device's readings")
    options.add_argument("--live-ts", action="store_true", help="ts = publish time (latency runs)")
    options.add_argument("--drain-timeout", type=float, default=60.0, help="seconds to wait for the last PUBACKs")
    options.add_argument("--result", type=Path, help="write the acknowledged readings here as JSON")
    return options


def main(argv: list[str] | None = None) -> None:
    """Publish a fleet's readings; print `{"sent", "acked", "seconds"}` as the last line."""
    args = parser().parse_args(argv)
    if args.count is None and args.duration is None:
        sys.exit("give --count or --duration")
    result = publish_fleet(args)
    if args.result:
        args.result.write_text(json.dumps(result))
    print(json.dumps({"sent": result["sent"], "acked": sum(map(len, result["acked"].values())),
                      "seconds": result["seconds"]}), flush=True)


class Fleet:
    """A running `python -m devtools.fleet` process: its progress, and its result once it ends."""

    def __init__(self, process: ManagedProcess, result_file: Path, prefix: str):
        self.process = process
        self.result_file = result_file
        self.prefix = prefix

    @classmethod
    def start(cls, port: int, *, prefix: str, devices: int, log_dir: Path, first_device: int = 1, **options) -> "Fleet":
        """Start a publisher; `options` are the script's (count=, duration=, rate=, ts0=, ...) by their names."""
        result_file = log_dir / f"{prefix}-{first_device}-fleet.json"
        args = ["--port", str(port), "--prefix", prefix, "--devices", str(devices),
                "--first-device", str(first_device), "--result", str(result_file)]
        for name, value in options.items():
            if value is True:
                args.append(f"--{name.replace('_', '-')}")
            elif value is not None and value is not False:
                args += [f"--{name.replace('_', '-')}", str(value)]
        process = ManagedProcess([sys.executable, "-m", "devtools.fleet", *args],
                                 log_file=log_dir / f"{prefix}-{first_device}-fleet.log").start()
        return cls(process, result_file, prefix)

    def progress(self) -> dict[str, float]:
        """The latest progress line: sent, acked, connects, elapsed."""
        lines = re.findall(r"progress (sent=.*)", self.process.output())
        if not lines:
            return {"sent": 0, "acked": 0, "connects": 0, "elapsed": 0.0}
        return {key: float(value) for key, value in re.findall(r"(\w+)=([\d.]+)", lines[-1])}

    def wait_for(self, key: str, at_least: float, timeout: float = 30.0) -> None:
        """Block until the progress figure `key` reaches `at_least`."""
        wait_until(lambda: self.progress()[key] >= at_least, timeout=timeout,
                   message=f"the publisher never reached {key}={at_least}:\n{self.process.output()[-3000:]}")

    def finish(self, timeout: float = 120.0) -> dict:
        """Wait for the publisher to end; its result, with `acked` as {device: set of reading numbers}."""
        wait_until(lambda: not self.process.running, timeout=timeout, interval=0.1,
                   message=f"publisher still running after {timeout} s")
        assert self.process.process.returncode == 0, self.process.output()[-3000:]
        result = json.loads(self.result_file.read_text())
        result["acked"] = {device: set(numbers) for device, numbers in result["acked"].items()}
        result["acked_total"] = sum(map(len, result["acked"].values()))
        return result


if __name__ == "__main__":
    main()
