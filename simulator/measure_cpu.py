#!/usr/bin/env python3
"""Measure the CPU a simulator run takes: start it, let it settle, sample it with psutil.

    .venv/bin/python simulator/measure_cpu.py --port 1883 -- --devices 1000
    .venv/bin/python simulator/measure_cpu.py --port 1883 -- --devices 1000 --single-connection

Everything after `--` goes to simulator.py. Needs psutil (backend/requirements-dev.txt)
and a running broker; it prints the simulator's CPU as a share of one core and its
last summary line, which shows whether the fleet kept up.
"""
import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

SIMULATOR = Path(__file__).resolve().with_name("simulator.py")


def main() -> int:
    """Run one measurement and print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds after connecting before sampling")
    parser.add_argument("--seconds", type=float, default=30.0, help="sampling window")
    parser.add_argument("simulator_args", nargs="*", help="options for simulator.py (after --)")
    args = parser.parse_args()

    with tempfile.NamedTemporaryFile("w+", suffix=".log") as log:
        command = [sys.executable, str(SIMULATOR), "--host", args.host, "--port", str(args.port),
                   "--summary-seconds", "1", *args.simulator_args]
        child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while "Connected to the MQTT broker" not in Path(log.name).read_text():
                if child.poll() is not None or time.monotonic() > deadline:
                    print(Path(log.name).read_text(), file=sys.stderr)
                    return 1
                time.sleep(0.1)
            process = psutil.Process(child.pid)
            time.sleep(args.warmup)
            before, started = process.cpu_times(), time.monotonic()
            time.sleep(args.seconds)
            after, took = process.cpu_times(), time.monotonic() - started
            threads = process.num_threads()
            summaries = re.findall(r"^\[.*\] \d+/\d+ connected .*$", Path(log.name).read_text(), re.MULTILINE)
        finally:
            child.terminate()
            child.wait(timeout=15)
    user, system = after.user - before.user, after.system - before.system
    print(f"simulator.py {' '.join(args.simulator_args)}")
    print(f"CPU over {took:.0f} s: {(user + system) / took:.1%} of one core "
          f"(user {user / took:.1%}, system {system / took:.1%}), {threads} thread(s)")
    print(f"last summary: {summaries[-1] if summaries else '(none)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
