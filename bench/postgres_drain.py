"""The ingest's drain on PostgreSQL against a counting paho client, same broker, backlog and run.

`bench/run.py --only pg-drain` under a PostgreSQL DATABASE_URL (a private cluster through
scripts/with-postgres, or a server of one's own: the CPU of all its processes is counted):

    scripts/with-postgres .venv/bin/python bench/run.py --only pg-drain

A fresh broker and a fresh migrated database; the ingest and a counting client subscribe
once and stop, so their persistent sessions exist; two publishers queue the backlog; the
counting client drains its copy, timed from its first message to its last; then the ingest
drains its copy, timed from the first committed row seen to the last (polled every 50 ms on one connection, see
postgres_server.RowPoll). Both rates count the readings after the first one
seen, so the ratio compares the same thing. CPU (psutil user + system) over the ingest's
window: the ingest's main process and its writer process, the broker, and every PostgreSQL server process; and the
counting client's own CPU over its window, for comparison.
"""
import time
from pathlib import Path

import psutil

import ingest_bench
from cpu import cpu_seconds, used
from devtools.processes import ManagedProcess
from postgres_server import RowPoll, Server, stored

DATABASE = "bench_pg_drain"
POLL_SECONDS = 0.05


def pg_drain_benchmark(workspace: ingest_bench.Workspace, server: Server, *, devices: int, per_device: int,
                       ingest_args: tuple[str, ...] = ()) -> dict:
    """Figures prefixed `pg_`: the two drain rates, their ratio, the counts and the CPU per stored reading."""
    total = devices * per_device
    url = server.create(DATABASE)
    try:
        migrate = ManagedProcess.manage("migrate", "--noinput", "-v0", log_file=workspace.root / "migrate.log",
                                        env={"DATABASE_URL": url}).start()
        assert migrate.process.wait() == 0, migrate.output()
        ingest_bench.subscriber(workspace, "count", "bench-count", 0)
        ingest_bench.start_ingest(workspace, url, *ingest_args).terminate()
        ingest_bench.publish(workspace, devices=devices, per_device=per_device)
        ceiling = ingest_bench.subscriber(workspace, "count", "bench-count", total)

        broker = psutil.Process(workspace.broker.process.pid)
        poll = RowPoll(url)
        try:
            ingest = ingest_bench.start_ingest(workspace, url, *ingest_args)
            deadline = time.monotonic() + total / 500 + 60
            while (count := poll.newest(total)) == 0:
                if time.monotonic() > deadline:
                    raise RuntimeError("no reading stored")
                time.sleep(0.005)
            first_at, first_count = time.monotonic(), count
            main = psutil.Process(ingest.process.pid)
            writers = main.children(recursive=True)

            def snapshot() -> dict:
                return {"ingest_main": cpu_seconds([main]), "ingest_writer": cpu_seconds(writers),
                        "broker": cpu_seconds([broker]), "postgres": cpu_seconds(server.processes())}

            before = snapshot()
            while count < total:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {count} of {total} stored")
                time.sleep(POLL_SECONDS)
                count = poll.newest(total)
            last_at = time.monotonic()
            after = snapshot()
        finally:
            poll.close()
        time.sleep(1.0)  # anything beyond `total` would be a duplicate
        exit_code = ingest.terminate()
        rows, distinct = stored(url)
    finally:
        server.drop(DATABASE)

    readings = total - first_count
    rate = readings / (last_at - first_at)
    ceiling_rate = (ceiling["received"] - 1) / ceiling["first_to_last"]
    figures = {
        "pg_ingest_drain_rate": rate,
        "pg_ceiling_rate": ceiling_rate,
        "pg_ingest_vs_ceiling_ratio": rate / ceiling_rate,
        "pg_ingest_stored": rows,
        "pg_ingest_lost": total - distinct,
        "pg_ingest_duplicated": rows - distinct,
        "pg_ingest_exit_code": exit_code,
    }
    cpu = {name: used(before[name], after[name]) for name in before}
    cpu["ingest"] = cpu["ingest_main"] + cpu["ingest_writer"]
    for name, seconds in cpu.items():
        figures[f"pg_cpu_{name}_us_per_reading"] = seconds / readings * 1e6
    figures["pg_cpu_ceiling_us_per_reading"] = ceiling["cpu_first_to_last"] / (ceiling["received"] - 1) * 1e6
    figures["pg_cpu_cores_used"] = (cpu["ingest"] + cpu["broker"] + cpu["postgres"]) / (last_at - first_at)
    return figures
