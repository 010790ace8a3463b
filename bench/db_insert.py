"""How fast SQLite takes readings through the ORM's bulk_create and through raw executemany.

The ingest's writer uses `bulk_create(ignore_conflicts=True)`; this measures what the
same batches cost without the ORM, in a fresh database, to show where the writer's
ceiling is. Prints one JSON line of rows/s per method.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BACKEND_DIR = Path(__file__).resolve().parents[1] / "backend"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=1_000)
    parser.add_argument("--rows", type=int, default=200_000, help="rows per method")
    parser.add_argument("--batch", type=int, default=2_000, help="rows per transaction, as the ingest's batch")
    args = parser.parse_args()
    database = Path(tempfile.mkdtemp()) / "insert.sqlite3"
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["LOG_LEVEL"] = "WARNING"
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=BACKEND_DIR, check=True)

    sys.path.insert(0, str(BACKEND_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    from common.longrunning import turn_off_debug
    from devices.models import Device
    from telemetry.models import Telemetry

    turn_off_debug()
    device_ids = [f"bench-{n:05d}" for n in range(args.devices)]
    Device.objects.bulk_create([Device(device_id=pk) for pk in device_ids])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    now = datetime.now(UTC)

    def rows(offset: int):
        for n in range(args.rows):
            yield device_ids[n % args.devices], start + timedelta(milliseconds=offset + n), 20.0 + n % 150 / 10

    def timed(write_batch, offset: int) -> float:
        batch, began = [], time.perf_counter()
        for row in rows(offset):
            batch.append(row)
            if len(batch) == args.batch:
                with transaction.atomic():
                    write_batch(batch)
                batch = []
        if batch:
            with transaction.atomic():
                write_batch(batch)
        return args.rows / (time.perf_counter() - began)

    def orm(batch):
        Telemetry.objects.bulk_create(
            [Telemetry(device_id=pk, ts=ts, temperature=t, received_at=now) for pk, ts, t in batch],
            ignore_conflicts=True,
        )

    def raw(batch):
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT OR IGNORE INTO telemetry_telemetry (device_id, ts, temperature, received_at)"
                " VALUES (%s, %s, %s, %s)",
                [(pk, ts.strftime("%Y-%m-%d %H:%M:%S.%f"), t, now.strftime("%Y-%m-%d %H:%M:%S.%f"))
                 for pk, ts, t in batch],
            )

    figures = {"bulk_create_rows_per_s": round(timed(orm, 0)), "executemany_rows_per_s": round(timed(raw, args.rows))}
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
