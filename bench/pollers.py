"""Open dashboard tabs as load: wrk running bench/dashboard_tabs.lua against a served fleet."""
import json
import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().with_name("dashboard_tabs.lua")
POLL_MS = 3000  # frontend/src/lib/query-client.ts: POLL_MS


def wrk_available() -> bool:
    """Whether Debian's wrk is installed (`make bench` installs it)."""
    return shutil.which("wrk") is not None


def dashboard_tabs(base_url: str, *, tabs: int, seconds: int, devices: int, prefix: str, paged: bool,
                   poll_ms: int = POLL_MS) -> dict:
    """`tabs` tabs polling every `poll_ms` (0: as fast as answers come) for `seconds`: rates and latencies."""
    command = ["wrk", f"-t{tabs}", f"-c{tabs}", f"-d{seconds}s", "--timeout", "10s", "-s", str(SCRIPT), base_url,
               "--", str(devices), prefix, "1" if paged else "0", str(poll_ms)]
    result = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["requests_per_s"] = figures["requests"] / figures["seconds"]
    figures["error_share"] = figures["errors"] / max(figures["requests"], 1)
    return figures
