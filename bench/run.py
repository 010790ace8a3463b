"""`make bench` / `make bench-quick`: measure the platform and compare it with its baselines.

Prints one `name=value unit` line per figure and writes them all to bench/results.json.
"""
import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent / "backend"))

from devtools.broker import LocalBroker  # noqa: E402

import api_bench  # noqa: E402
import fleet_bench  # noqa: E402
import ingest_bench  # noqa: E402
import postgres_drain  # noqa: E402
from postgres_server import Server  # noqa: E402

FULL = {
    "drain": {"devices": 1000, "per_device": 200, "naive_seconds": 20},
    "durability": {"devices": 1000, "per_device": 200},
    "pg-drain": {"devices": 1000, "per_device": 100},
    "live": {"devices": 1000, "per_device": 200},
    "latency": {"rate": 5000, "seconds": 20, "devices": 1000},
    "api": {"rows": 10_000_000, "devices": 1000, "requests": 300},
    "fleet": "full",  # a plan of bench/fleet_bench.py (make bench-fleet runs its "fleet" plan: 100,000 devices)
}
QUICK = {
    "drain": {"devices": 100, "per_device": 200, "naive_seconds": 5},
    "durability": {"devices": 100, "per_device": 200},
    "pg-drain": {"devices": 100, "per_device": 200},
    "live": {"devices": 100, "per_device": 100},
    "latency": {"rate": 2000, "seconds": 5, "devices": 100},
    "api": {"rows": 200_000, "devices": 100, "requests": 100},
    "fleet": "quick",
}
UNITS = {"rate": "readings/s", "_ms": "ms", "_mb": "MB", "_kb": "KB", "ratio": "x"}


class Report:
    def __init__(self) -> None:
        self.figures: dict[str, float] = {}

    def add(self, name: str, value) -> None:
        self.figures[name] = value
        unit = next((unit for suffix, unit in UNITS.items() if suffix in name), "")
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        print(f"{name}={shown} {unit}".rstrip(), flush=True)

    def add_all(self, figures: dict) -> None:
        for name, value in figures.items():
            self.add(name, value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, under 2 minutes")
    parser.add_argument("--only", choices=["drain", "durability", "pg-drain", "live", "latency", "api", "fleet"],
                        action="append")
    parser.add_argument("--ingest-args", default="", help="extra arguments for manage.py ingest")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    ingest_args = tuple(args.ingest_args.split())
    postgres_url = os.environ.get("DATABASE_URL", "")
    postgres_url = postgres_url if postgres_url.startswith("postgres") else ""
    chosen = args.only or [name for name in sizes if name != "pg-drain" or postgres_url]
    if "pg-drain" in chosen and not postgres_url:
        sys.exit("pg-drain needs DATABASE_URL naming a PostgreSQL server: run it through scripts/with-postgres")
    report = Report()
    started = time.monotonic()
    print(f"# {'quick' if args.quick else 'full'} run on {platform.node()}, "
          f"{platform.python_implementation()} {platform.python_version()}", flush=True)

    for name in chosen:
        with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as root:
            root = Path(root)
            if name == "fleet":
                fleet_bench.fleet_figures(root, fleet_bench.PLANS[sizes["fleet"]], fleet_bench.database_kinds(),
                                          keep=False, data_dir=root, report=report.add)
                continue
            if name == "api":
                report.add_all(api_bench.api_benchmark(root, **sizes["api"]))
                if postgres_url:
                    # The same on PostgreSQL's partitioned table (make bench runs under scripts/with-postgres).
                    url = api_bench.fresh_postgres_database(os.environ["DATABASE_URL"], "telemetry_bench_api")
                    figures = api_bench.api_benchmark(root, **sizes["api"], database_url=url, alerts=False)
                    report.add_all({f"pg_{key}": value for key, value in figures.items()})
                    url = api_bench.fresh_postgres_database(os.environ["DATABASE_URL"], "telemetry_bench_alerts")
                    figures = api_bench.alert_pass(dict(os.environ), devices=100_000, database_url=url)
                    report.add_all({f"pg_{key}": value for key, value in figures.items()})
                    for endpoint in ("api_telemetry_limit100", "api_stats_avg_24h"):
                        print(f"# {endpoint} p95: SQLite {report.figures[endpoint + '_p95_ms']:.1f} ms,"
                              f" PostgreSQL partitioned {report.figures['pg_' + endpoint + '_p95_ms']:.1f} ms",
                              flush=True)
                continue
            with LocalBroker(root / "broker") as broker:
                workspace = ingest_bench.Workspace(root, broker)
                if name == "pg-drain":
                    report.add_all(postgres_drain.pg_drain_benchmark(
                        workspace, Server(postgres_url), ingest_args=ingest_args, **sizes["pg-drain"]))
                elif name == "drain":
                    figures = ingest_bench.drain_benchmark(workspace, ingest_args=ingest_args, **sizes["drain"])
                    report.add_all(figures)
                    report.add("ingest_vs_naive_ratio", figures["ingest_drain_rate"] / figures["naive_rate"])
                    report.add("ingest_vs_ceiling_ratio", figures["ingest_drain_rate"] / figures["ceiling_rate"])
                elif name == "durability":
                    figures = ingest_bench.durability_benchmark(workspace, ingest_args=ingest_args,
                                                                **sizes["durability"])
                    report.add_all(figures)
                    report.add("synchronous_full_vs_normal_ratio",
                               figures["drain_synchronous_full_rate"] / figures["drain_synchronous_normal_rate"])
                elif name == "live":
                    report.add_all(ingest_bench.live_benchmark(workspace, ingest_args=ingest_args, **sizes["live"]))
                elif name == "latency":
                    report.add_all(
                        ingest_bench.latency_benchmark(workspace, ingest_args=ingest_args, **sizes["latency"])
                    )

    report.add("bench_seconds", time.monotonic() - started)
    results = {"mode": "quick" if args.quick else "full", "figures": report.figures}
    (BENCH_DIR / "results.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
