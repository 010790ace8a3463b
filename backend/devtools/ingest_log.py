"""Reading the ingest's log output: its ERROR lines and the counters it logs."""
import ast
import re
from collections import Counter

from devtools.processes import ManagedProcess


def error_lines(output: str) -> list[str]:
    """The ingest's ERROR log lines (the settings' format: time LEVEL logger: message)."""
    return [line for line in output.splitlines() if re.search(r"\bERROR telemetry\.ingest\b", line)]


def ingest_totals(*processes: ManagedProcess) -> Counter:
    """The counters the ingest logs when it stops (and, for a killed run, its last summary)."""
    totals = Counter()
    for process in processes:
        output = process.output()
        final = re.findall(r"ingest stopped \(totals: (\{.*\})\)", output)
        if final:
            totals.update(ast.literal_eval(final[-1]))
            continue
        running = re.findall(r"\(totals: ([^)]*)\)", output)
        if running:
            totals.update({k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", running[-1])})
    return totals
