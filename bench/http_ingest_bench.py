"""HTTP ingestion rate: gunicorn with the production config, load from separate client processes.

    .venv/bin/python bench/http_ingest_bench.py --batch 1 --clients 4 --seconds 20
    .venv/bin/python bench/http_ingest_bench.py --batch 1000 --clients 4 --seconds 20

Each client process registers nothing and shares nothing: it gets its own device and key,
keeps one connection open and posts batches of `--batch` readings (consecutive ts) for
`--seconds`. The figure is the readings the database holds afterwards over the load's
duration; every 202's `stored` is summed too, and must agree. The rate limits are lifted
(INGEST_THROTTLE_*=1000000/min) so the writer is measured, not the limits. A fresh SQLite
file unless DATABASE_URL names a PostgreSQL database (it is flushed first).
"""
import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
BACKEND_DIR = BENCH_DIR.parent / "backend"
sys.path.insert(0, str(BACKEND_DIR))

from devtools.broker import free_port  # noqa: E402
from devtools.processes import ManagedProcess  # noqa: E402

REGISTER = """
import json
from devices.services import device_register
print(json.dumps({f"bench-{n:03d}": device_register(device_id=f"bench-{n:03d}").api_key for n in range({count})}))
"""
COUNT = "from telemetry.models import Telemetry; print(Telemetry.objects.count())"


def _manage(env: dict, *args: str) -> str:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=BACKEND_DIR, env=env, capture_output=True,
                          text=True, check=True).stdout


def client(port: int, device_id: str, key: str, batch: int, seconds: float, start_ms: int) -> dict:
    """Post batches for `seconds`; the 202s, the readings they stored, and the other statuses seen."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json", "X-API-Key": key}
    ts, accepted, stored, others = start_ms, 0, 0, {}
    first = time.time()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        readings = [{"ts": ts + i, "temperature": 20 + i % 10, "humidity": 50.5, "battery": 90} for i in range(batch)]
        ts += batch
        body = json.dumps(readings[0] if batch == 1 else readings)
        connection.request("POST", f"/api/devices/{device_id}/telemetry/", body, headers)
        response = connection.getresponse()
        answer = response.read()
        if response.status == 202:
            accepted += 1
            stored += json.loads(answer)["stored"]
        else:
            others[response.status] = others.get(response.status, 0) + 1
    return {"accepted": accepted, "stored": stored, "others": others, "first": first, "last": time.time()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--client", nargs=5, metavar=("PORT", "DEVICE", "KEY", "BATCH", "SECONDS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        port, device_id, key, batch, seconds = args.client
        start_ms = int(time.time() * 1000) - 10 ** 9  # far enough back that batches never reach the future
        print(json.dumps(client(int(port), device_id, key, int(batch), float(seconds), start_ms)))
        return

    root = Path(tempfile.mkdtemp(prefix="http-ingest-bench-"))
    database = os.environ.get("DATABASE_URL", "")
    env = {**os.environ, "DATABASE_URL": database if database.startswith("postgres") else
           f"sqlite:///{root / 'bench.sqlite3'}", "DJANGO_DEBUG": "false", "LOG_LEVEL": "WARNING",
           "INGEST_THROTTLE_DEVICE": "1000000/min", "INGEST_THROTTLE_ADDRESS": "1000000/min"}
    _manage(env, "migrate", "--noinput", "-v0")
    if database.startswith("postgres"):
        _manage(env, "flush", "--noinput")
    keys = json.loads(_manage(env, "shell", "-c", REGISTER.replace("{count}", str(args.clients))).splitlines()[-1])

    port = free_port()
    server = ManagedProcess(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "config/gunicorn.conf.py", "config.wsgi"],
        log_file=root / "web.log", env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}, cwd=BACKEND_DIR,
    ).start()
    try:
        server.wait_for_output(r"Booting worker", timeout=30)
        for _ in range(50):  # every worker imports the views on its first request
            warm = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            warm.request("GET", "/api/health/")
            warm.getresponse().read()
        clients = [
            subprocess.Popen([sys.executable, __file__, "--client", str(port), device_id, key, str(args.batch),
                              str(args.seconds)], stdout=subprocess.PIPE, text=True)
            for device_id, key in keys.items()
        ]
        results = [json.loads(process.communicate()[0]) for process in clients]
        # From the first request of any client to the last answer: client start-up is not load.
        elapsed = max(result["last"] for result in results) - min(result["first"] for result in results)
    finally:
        server.terminate()
    rows = int(_manage(env, "shell", "-c", COUNT).splitlines()[-1])
    requests = sum(result["accepted"] for result in results)
    print(json.dumps({
        "database": env["DATABASE_URL"].split(":")[0], "batch": args.batch, "clients": args.clients,
        "workers": "gunicorn.conf.py default", "seconds": round(elapsed, 1), "requests_202": requests,
        "stored_by_responses": sum(result["stored"] for result in results), "rows": rows,
        "readings_per_s": round(rows / elapsed), "requests_per_s": round(requests / elapsed, 1),
        "other_statuses": [result["others"] for result in results if result["others"]],
        "load_average": os.getloadavg()[0],
    }))


if __name__ == "__main__":
    main()
