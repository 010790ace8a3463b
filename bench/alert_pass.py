"""Time alert evaluation passes with N devices in a fresh database (run by api_bench).

The passes: nothing due; a new reading from every device (none hot, then 1 in 10 starting
an episode, then those still hot); --offline devices falling silent at once; the rest of
the fleet going OFFLINE, staying silent, the whole fleet coming back ONLINE and going
OFFLINE again, each wave timed over the passes it takes (a pass flips at most 50,000
devices a step). Each wave's alerts are counted, and the OFFLINE step's queries must be
served by the (status, last_seen) index, the quiet ONLINE step's by the partial index of
devices heard again. The database is a fresh SQLite file, or the
empty database --database-url names; on PostgreSQL its planner statistics are gathered
first, as autovacuum keeps them on a live database.
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
OFFLINE_AFTER = 3600.0  # the wave passes' silence limit, longer than a wave takes at 100,000 devices (the others keep a day)


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
    from alerts.services import alerts_evaluate, devices_mark_offline, devices_mark_online
    from common.longrunning import turn_off_debug
    from devices.models import Device
    from devtools.query_plans import plans_of
    from telemetry.payload import Reading
    from telemetry.services import telemetry_store_batch

    turn_off_debug()

    def analyze() -> None:
        """PostgreSQL's planner statistics, as autovacuum keeps them on a live database: without
        them it plans freshly written tables with sequential scans and hash joins. (SQLite has
        none unless ANALYZE is run, which production never does.)"""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

    analyze()
    while alerts_evaluate().readings:  # takes in the seeded readings (a pass stops after its 0.5 s budget)
        pass

    idle = []
    for _ in range(args.passes):
        report = alerts_evaluate()
        idle.append(report.seconds * 1000)

    def one_reading_each(second: int, hot_every: int | None) -> None:
        now = datetime.now(tz=UTC)
        ts = now + timedelta(seconds=second)
        readings = [(Reading(f"seed-{n:05d}", ts, 31.0 if hot_every and n % hot_every == 0 else 25.0, 50.0, None,
                             None), now) for n in range(1, args.devices + 1)]
        telemetry_store_batch(readings=readings, rejections=[], known_device_ids=set())

    def passes_until_read() -> tuple[float, list]:
        """Milliseconds until the passes have taken in one reading per device, and their reports."""
        started = time.monotonic()
        reports = [alerts_evaluate()]
        while sum(r.readings for r in reports) < args.devices:  # the budget left some for the next pass
            reports.append(alerts_evaluate())
        return (time.monotonic() - started) * 1000, reports

    def one_pass_ms(**overrides) -> float:
        return alerts_evaluate(**overrides).seconds * 1000

    def passes_until(done, **overrides) -> tuple[float, int]:
        """Milliseconds and passes until `done()`: a pass flips at most MAX_DEVICE_ROUNDS statements of devices."""
        started, passes = time.monotonic(), 0
        while not done():
            alerts_evaluate(**overrides)
            passes += 1
        return (time.monotonic() - started) * 1000, passes

    def offline_alerts() -> int:
        return Alert.objects.filter(alert_type=Alert.Type.OFFLINE).count()

    def online_alerts() -> int:
        return Alert.objects.filter(alert_type=Alert.Type.ONLINE).count()

    figures = {"alert_pass_database": connection.vendor, "alert_pass_devices": args.devices,
               "alert_pass_idle_p50_ms": statistics.median(idle), "alert_pass_idle_max_ms": max(idle)}
    one_reading_each(1, hot_every=None)
    figures["alert_pass_none_hot_ms"], reports = passes_until_read()
    assert sum(r.high_temp for r in reports) == 0, reports
    one_reading_each(2, hot_every=10)
    with_readings, reports = passes_until_read()
    assert sum(r.high_temp for r in reports) == args.devices // 10, reports
    figures["alert_pass_one_reading_per_device_ms"] = with_readings
    figures["alert_pass_one_reading_per_device_passes"] = len(reports)
    one_reading_each(3, hot_every=10)
    figures["alert_pass_still_hot_ms"], reports = passes_until_read()
    assert sum(r.high_temp for r in reports) == 0, reports

    silent = {"offline_after": OFFLINE_AFTER}
    # The plans of a live fleet: every device heard from within the silence limit.
    Device.objects.update(last_seen=datetime.now(tz=UTC))
    analyze()
    plans = plans_of(lambda: devices_mark_offline(now=datetime.now(tz=UTC), offline_after=OFFLINE_AFTER),
                     containing='"last_seen" <')
    assert plans and all("device_status_last_seen" in plan or "Index Scan" in plan for plan in plans), plans
    # --offline devices fall silent at once: timed until every one of them is OFFLINE with its alert.
    silent_ids = Device.objects.order_by("pk").values("pk")[:args.offline]
    Device.objects.filter(pk__in=silent_ids).update(
        last_seen=datetime.now(tz=UTC) - timedelta(seconds=OFFLINE_AFTER + 1))
    figures["alert_pass_offline_at_once"] = args.offline
    figures["alert_pass_offline_ms"], figures["alert_pass_offline_passes"] = passes_until(
        lambda: offline_alerts() >= args.offline, **silent)
    assert Device.objects.filter(status=Device.Status.OFFLINE).count() == args.offline

    # The rest of the fleet (a newer last_seen would bring the silent ones back ONLINE).
    Device.objects.filter(status=Device.Status.ONLINE).update(
        last_seen=datetime.now(tz=UTC) - timedelta(seconds=OFFLINE_AFTER + 1))
    figures["alert_pass_all_offline_ms"], figures["alert_pass_all_offline_passes"] = passes_until(
        lambda: offline_alerts() >= args.devices, **silent)
    offline_idle = [one_pass_ms(**silent) for _ in range(args.passes)]
    figures["alert_pass_offline_idle_p50_ms"] = statistics.median(offline_idle)
    figures["alert_pass_offline_idle_max_ms"] = max(offline_idle)
    # The ONLINE step of those passes reads the partial index of devices heard again, empty.
    plans = plans_of(lambda: devices_mark_online(now=datetime.now(tz=UTC)), containing='"offline_last_seen"')
    assert plans and all("device_heard_again" in plan for plan in plans), plans
    Device.objects.update(last_seen=datetime.now(tz=UTC))
    figures["alert_pass_all_online_ms"], figures["alert_pass_all_online_passes"] = passes_until(
        lambda: online_alerts() >= args.devices, **silent)
    figures["alert_pass_online_idle_p50_ms"] = statistics.median(one_pass_ms(**silent) for _ in range(args.passes))
    Device.objects.update(last_seen=datetime.now(tz=UTC) - timedelta(seconds=OFFLINE_AFTER + 1))
    figures["alert_pass_all_offline_again_ms"], figures["alert_pass_all_offline_again_passes"] = passes_until(
        lambda: offline_alerts() >= 2 * args.devices, **silent)
    assert Alert.objects.filter(alert_type="OFFLINE").count() == 2 * args.devices
    assert Alert.objects.filter(alert_type="ONLINE").count() == args.devices
    assert Alert.objects.filter(alert_type="HIGH_TEMP").count() == args.devices // 10
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
