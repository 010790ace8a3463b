#!/usr/bin/env python3
"""Measure the CPU a simulator run takes: start it, let it settle, sample it with psutil.

    .venv/bin/python simulator/measure_cpu.py --port 1883 -- --devices 1000
    .venv/bin/python simulator/measure_cpu.py --port 1883 -- --devices 10000 --connections 4

Everything after `--` goes to simulator.py. Needs psutil (backend/requirements-dev.txt)
and a running broker; it prints the simulator's CPU as a share of one core and its
last summary line, which shows whether the fleet kept up. bench/simulator_fleet.py
calls `measure` with an ingest behind the broker.
"""
import argparse
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

SIMULATOR = Path(__file__).resolve().with_name("simulator.py")
SUMMARY = re.compile(r"^\[.*\] \d+/\d+ connected \| published (\d+) .*$", re.MULTILINE)


@dataclass
class Measurement:
    """What one sampling window saw."""

    seconds: float
    user: float  # CPU seconds of the simulator in the window
    system: float
    threads: int
    published: int  # acknowledged by the broker in the window (from the summary lines)
    last_summary: str
    probes: dict[str, float] = field(default_factory=dict)  # each probe's increase over the window
    output: str = ""

    @property
    def cpu_share(self) -> float:
        return (self.user + self.system) / self.seconds


def measure(host: str, port: int, simulator_args: list[str], *, warmup: float, seconds: float,
            probes: dict[str, Callable[[], float]] | None = None, wait_for_end: float = 0) -> Measurement:
    """Run simulator.py, sample its CPU (and `probes`) over `seconds` after `warmup`; stop it or let it end."""
    probes = probes or {}
    with tempfile.NamedTemporaryFile("w+", suffix=".log") as log:
        command = [sys.executable, str(SIMULATOR), "--host", host, "--port", str(port),
                   "--summary-seconds", "1", *simulator_args]
        child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        output = lambda: Path(log.name).read_text()  # noqa: E731
        try:
            deadline = time.monotonic() + 60
            while "Connected to the MQTT broker" not in output():
                if child.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the simulator did not connect:\n{output()}")
                time.sleep(0.1)
            process = psutil.Process(child.pid)
            time.sleep(warmup)
            published_before = _published(output())
            before, started = process.cpu_times(), time.monotonic()
            at_start = {name: probe() for name, probe in probes.items()}
            time.sleep(seconds)
            after, took = process.cpu_times(), time.monotonic() - started
            at_end = {name: probe() for name, probe in probes.items()}
            published_after = _published(output())
            threads = process.num_threads()
            if wait_for_end:
                child.wait(timeout=wait_for_end)
        finally:
            if child.poll() is None:
                child.terminate()
                child.wait(timeout=15)
        text = output()
    return Measurement(
        seconds=took, user=after.user - before.user, system=after.system - before.system, threads=threads,
        published=published_after - published_before,
        last_summary=(re.findall(r"^\[.*\] \d+/\d+ connected .*$", text, re.MULTILINE) or ["(none)"])[-1],
        probes={name: at_end[name] - at_start[name] for name in probes}, output=text,
    )


def _published(output: str) -> int:
    counts = SUMMARY.findall(output)
    return int(counts[-1]) if counts else 0


def main() -> int:
    """Run one measurement and print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds after connecting before sampling")
    parser.add_argument("--seconds", type=float, default=30.0, help="sampling window")
    parser.add_argument("simulator_args", nargs="*", help="options for simulator.py (after --)")
    args = parser.parse_args()
    try:
        result = measure(args.host, args.port, args.simulator_args, warmup=args.warmup, seconds=args.seconds)
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    took = result.seconds
    print(f"simulator.py {' '.join(args.simulator_args)}")
    print(f"CPU over {took:.0f} s: {result.cpu_share:.1%} of one core "
          f"(user {result.user / took:.1%}, system {result.system / took:.1%}), {result.threads} thread(s)")
    print(f"published {result.published / took:.0f} msg/s; last summary: {result.last_summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
