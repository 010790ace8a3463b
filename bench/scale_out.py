"""Scale-out on PostgreSQL: a queued backlog drained by 1, 2 and 3 ingest members of one shared group.

Run it on a PostgreSQL server of its own (the CPU of every server process is counted):

    scripts/with-postgres .venv/bin/python bench/scale_out.py        (make bench-scale-out)

For each member count N: a fresh broker (the project's mosquitto.conf) and a fresh database
on the server DATABASE_URL names; the N members of `ingest --shared-group ingest` (INGEST_MEMBER_ID
0..N-1) and a counting paho client subscribe once and stop, so their persistent sessions exist;
the backlog is published; the counting client drains its copy (the ceiling of the broker ->
Python path); then the N members start together and, from the moment all are connected and a
commit has been seen to the last commit, the readings stored and the time are measured,
polling the row count every 50 ms. CPU is psutil's user + system time over that window of
each member and its children (the writer), the broker, and the PostgreSQL server's processes.
Whatever `manage.py ingest` is at the time is what runs. Prints `name=value unit` lines.
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import psutil

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent / "backend"))

from devtools.broker import LocalBroker  # noqa: E402
from devtools.processes import ManagedProcess  # noqa: E402

import ingest_bench  # noqa: E402
from cpu import cpu_seconds, used, with_children  # noqa: E402
from postgres_server import RowPoll, Server, stored  # noqa: E402

GROUP = "ingest"


def scenario(root: Path, server: Server, members: int, *, devices: int, per_device: int) -> dict:
    """Drain one queued backlog with `members` ingest processes; the figures, prefixed `scale_out_{members}_`."""
    total = devices * per_device
    name = f"bench_scale_out_{members}"
    url = server.create(name)
    try:
        with LocalBroker(root / f"broker-{members}") as broker:
            workspace = ingest_bench.Workspace(root, broker)
            migrate = ManagedProcess.manage("migrate", "--noinput", "-v0", log_file=root / "migrate.log",
                                            env={"DATABASE_URL": url}).start()
            assert migrate.process.wait() == 0, migrate.output()

            def member(index: int) -> ManagedProcess:
                env = {**workspace.env(root / "unused.sqlite3"), "DATABASE_URL": url, "LOG_LEVEL": "INFO",
                       "MQTT_CLIENT_ID": "bench-member", "INGEST_MEMBER_ID": str(index),
                       "INGEST_RUNTIME_DIR": str(root / f"runtime-{members}")}
                return ManagedProcess.manage("ingest", "--shared-group", GROUP,
                                             log_file=root / f"ingest-{members}-{index}.log", env=env)

            ingest_bench.subscriber(workspace, "count", "bench-count", 0)
            for index in range(members):
                process = member(index).start()
                process.wait_for_output(r"connected, subscribed", timeout=60)
                assert process.terminate() == 0, process.output()

            ingest_bench.publish(workspace, devices=devices, per_device=per_device)
            ceiling = ingest_bench.subscriber(workspace, "count", "bench-count", total)

            broker_process = psutil.Process(broker.process.pid)
            poll = RowPoll(url)  # the newest id, not a count(*) every 50 ms, which took CPU from the drain
            running = [member(index).start() for index in range(members)]
            deadline = time.monotonic() + total / 500 + 120
            # The window opens once every member is connected and one commit is seen: a member
            # still starting would otherwise count as a slow one (its share waits for it).
            for process in running:
                process.wait_for_output(r"connected, subscribed", timeout=120)
            while (count := poll.newest(total)) == 0:
                if time.monotonic() > deadline:
                    raise RuntimeError("no reading stored")
                time.sleep(0.01)
            first_at, first_count = time.monotonic(), count
            ingest_before = cpu_seconds(with_children([process.process.pid for process in running]))
            broker_before, server_before = cpu_seconds([broker_process]), cpu_seconds(server.processes())
            while count < total:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {count} of {total} stored")
                # The writers and their children are sampled while alive: a process gone by the end
                # would take its CPU with it.
                ingest_after = cpu_seconds(with_children([process.process.pid for process in running]))
                time.sleep(0.05)
                count = poll.newest(total)
            last_at = time.monotonic()
            poll.close()
            ingest_after = cpu_seconds(with_children([process.process.pid for process in running]))
            broker_after, server_after = cpu_seconds([broker_process]), cpu_seconds(server.processes())
            exits = [process.terminate() for process in running]
            final = stored(url)
    finally:
        server.drop(name)

    readings, seconds = total - first_count, last_at - first_at
    cpu = {"ingest": used(ingest_before, ingest_after), "broker": used(broker_before, broker_after),
           "postgres": used(server_before, server_after)}
    everything = sum(cpu.values())
    prefix = f"scale_out_{members}_"
    return {
        f"{prefix}rate": readings / seconds,
        f"{prefix}ceiling_rate": ceiling["received"] / ceiling["seconds"],
        f"{prefix}stored": final[0],
        f"{prefix}lost": total - final[1],
        f"{prefix}exit_codes_nonzero": sum(code != 0 for code in exits),
        f"{prefix}cpu_ingest_s": cpu["ingest"],
        f"{prefix}cpu_broker_s": cpu["broker"],
        f"{prefix}cpu_postgres_s": cpu["postgres"],
        f"{prefix}ingest_cores": cpu["ingest"] / seconds,
        f"{prefix}ingest_per_core_rate": readings / cpu["ingest"],
        f"{prefix}all_per_core_rate": readings / everything,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--per-device", type=int, default=200)
    parser.add_argument("--members", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL server: run through scripts/with-postgres")
    server = Server(url)
    print(f"# {args.devices * args.per_device} readings from {args.devices} devices, "
          f"members {args.members}, {psutil.cpu_count()} cores, load {os.getloadavg()[0]:.1f}", flush=True)
    for members in args.members:
        with tempfile.TemporaryDirectory(prefix="bench-scale-out-") as root:
            for name, value in scenario(Path(root), server, members, devices=args.devices,
                                        per_device=args.per_device).items():
                unit = "readings/s" if name.endswith("rate") else "s" if name.endswith("_s") else ""
                shown = f"{value:.2f}" if isinstance(value, float) else str(value)
                print(f"{name}={shown} {unit}".rstrip(), flush=True)


if __name__ == "__main__":
    main()
