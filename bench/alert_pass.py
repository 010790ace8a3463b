"""Time alert evaluation passes with N devices in a fresh database (run by api_bench)."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BACKEND_DIR = Path(__file__).resolve().parents[1] / "backend"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--passes", type=int, default=20)
    args = parser.parse_args()
    database = Path(tempfile.mkdtemp()) / "alerts.sqlite3"
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["LOG_LEVEL"] = "WARNING"
    # No device falls silent while the passes are measured: they time the readings alone.
    os.environ["OFFLINE_AFTER_SECONDS"] = "86400"
    for command in (["migrate", "--noinput", "-v0"],
                    ["seed_telemetry", "--devices", str(args.devices), "--readings", str(args.devices)]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=BACKEND_DIR, check=True, capture_output=True)

    sys.path.insert(0, str(BACKEND_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from alerts.services import alerts_evaluate
    from common.longrunning import turn_off_debug
    from telemetry.payload import Reading
    from telemetry.services import telemetry_store_batch

    turn_off_debug()
    while alerts_evaluate().readings:  # takes in the seeded readings (a pass stops after its 0.5 s budget)
        pass

    idle = []
    for _ in range(args.passes):
        report = alerts_evaluate()
        idle.append(report.seconds * 1000)

    now = datetime.now(tz=UTC)
    readings = [(Reading(f"seed-{n:05d}", now, 31.0 if n % 10 == 0 else 25.0, 50.0, None, None), now)
                for n in range(1, args.devices + 1)]
    telemetry_store_batch(readings=readings, rejections=[], known_device_ids=set())
    started = time.monotonic()
    reports = [alerts_evaluate()]
    while sum(r.readings for r in reports) < args.devices:  # the budget left some for the next pass
        reports.append(alerts_evaluate())
    with_readings = (time.monotonic() - started) * 1000
    assert sum(r.high_temp for r in reports) == args.devices // 10, reports
    print(json.dumps({
        "alert_pass_devices": args.devices,
        "alert_pass_idle_p50_ms": statistics.median(idle),
        "alert_pass_idle_max_ms": max(idle),
        "alert_pass_one_reading_per_device_ms": with_readings,
        "alert_pass_one_reading_per_device_passes": len(reports),
    }))


if __name__ == "__main__":
    main()
