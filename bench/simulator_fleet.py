"""A 10,000-device simulator from one process, with the real ingest storing what it sends.

    .venv/bin/python bench/simulator_fleet.py --devices 10000 --connections 4 --interval 1

A private broker (the project's mosquitto.conf) and a fresh SQLite database; the ingest
runs first, then simulator.py (no drops) sends for --warmup + --seconds. Over the
sampling window: the readings/s the broker acknowledged, the readings/s stored, and the
CPU of the simulator and of the ingest (its writer process included). After the
simulator stops, the time until every acknowledged reading is stored.
"""
import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import psutil

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent / "backend"))
sys.path.insert(0, str(BENCH_DIR.parent / "simulator"))

from devtools.broker import LocalBroker  # noqa: E402

import ingest_bench  # noqa: E402
import measure_cpu  # noqa: E402


def cpu_seconds(process: psutil.Process) -> float:
    """User + system CPU of a process and its children, so far."""
    total = 0.0
    for each in [process, *process.children(recursive=True)]:
        try:
            times = each.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def simulator_fleet(root: Path, *, devices: int, connections: int, interval: float, warmup: float,
                    seconds: float) -> dict:
    """The figures of one run (see the module's docstring)."""
    with LocalBroker(root / "broker") as broker:
        workspace = ingest_bench.Workspace(root, broker)
        database = workspace.database("simulator-fleet")
        ingest = ingest_bench.start_ingest(workspace, database)
        ingest_process = psutil.Process(ingest.process.pid)
        try:
            options = ["--devices", str(devices), "--interval", str(interval), "--drop-rate", "0", "--seed", "1",
                       "--duration", str(warmup + seconds + 2)]
            if connections > 1:
                options += ["--connections", str(connections)]
            elif connections == 1:
                options.append("--single-connection")
            result = measure_cpu.measure(
                "127.0.0.1", broker.port, options, warmup=warmup, seconds=seconds,
                probes={"stored": lambda: ingest_bench.stored_count(database),
                        "ingest_cpu": lambda: cpu_seconds(ingest_process)},
                wait_for_end=60,
            )
            final = re.search(r"Stopped \(.*\) after [\d.]+ s: .* published (\d+)", result.output)
            published = int(final.group(1))
            ended = time.monotonic()
            caught_up = ingest_bench.wait_for_rows(database, published, timeout=120)
            stored = ingest_bench.stored_count(database)
        finally:
            ingest.terminate()
    return {
        "devices": devices,
        "connections": connections or devices,
        "interval_s": interval,
        "offered_rate": devices / interval,
        "published_rate": result.published / result.seconds,
        "stored_rate": result.probes["stored"] / result.seconds,
        "simulator_cpu_share": result.cpu_share,
        "ingest_cpu_share": result.probes["ingest_cpu"] / result.seconds,
        "published_total": published,
        "stored_total": stored,
        "ingest_caught_up_s": max(caught_up - ended, 0.0),
        "last_summary": result.last_summary,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=4, help="shared connections (0: one per device)")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-simulator-") as root:
        figures = simulator_fleet(Path(root), devices=args.devices, connections=args.connections,
                                  interval=args.interval, warmup=args.warmup, seconds=args.seconds)
    for name, value in figures.items():
        print(f"simulator_{name}={value:.2f}" if isinstance(value, float) else f"simulator_{name}={value}")


if __name__ == "__main__":
    main()
