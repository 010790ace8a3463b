"""Time alert evaluation passes with N devices in a fresh database (run by api_bench).

Figures: a pass with nothing due, a pass over one new reading per device, and the pass
in which --offline devices fall silent at once (all marked OFFLINE, one alert each).
The database is a fresh SQLite file, or the empty database --database-url names.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BACKEND_DIR = Path(__file__).resolve().parents[1] / "backend"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--offline", type=int, default=10_000, help="devices that fall silent at once")
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--database-url", help="an empty database to use instead of a fresh SQLite file")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'alerts.sqlite3'}"
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
    from django.db import connection

    from alerts.models import Alert
    from alerts.services import alerts_evaluate
    from common.longrunning import turn_off_debug
    from devices.models import Device
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

    # --offline devices heard last two days ago: past OFFLINE_AFTER_SECONDS (86400) at the next pass.
    silent = [f"seed-{n:05d}" for n in range(1, args.offline + 1)]
    Device.objects.filter(pk__in=Device.objects.filter(pk__in=silent).values("pk")).update(
        last_seen=now - timedelta(days=2))
    started = time.monotonic()
    offline_passes = 0
    while Alert.objects.filter(alert_type=Alert.Type.OFFLINE).count() < args.offline:
        alerts_evaluate()
        offline_passes += 1
    offline_ms = (time.monotonic() - started) * 1000
    assert Device.objects.filter(status=Device.Status.OFFLINE).count() == args.offline
    print(json.dumps({
        "alert_pass_database": connection.vendor,
        "alert_pass_devices": args.devices,
        "alert_pass_offline_at_once": args.offline,
        "alert_pass_offline_ms": offline_ms,
        "alert_pass_offline_passes": offline_passes,
        "alert_pass_idle_p50_ms": statistics.median(idle),
        "alert_pass_idle_max_ms": max(idle),
        "alert_pass_one_reading_per_device_ms": with_readings,
        "alert_pass_one_reading_per_device_passes": len(reports),
    }))


if __name__ == "__main__":
    main()
