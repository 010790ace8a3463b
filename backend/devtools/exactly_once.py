"""Exactly-once accounting: what the broker accepted against what the database holds and the ingest counted."""
from collections import Counter
from datetime import datetime

from devtools.ingest_log import ingest_totals
from devtools.processes import ManagedProcess


def epoch_ms(moment: datetime | int) -> int:
    return moment if isinstance(moment, int) else round(moment.timestamp() * 1000)


def accepted_keys(result: dict) -> Counter:
    """(device, ts in epoch ms) of every reading a fleet's broker acknowledged, each once."""
    return Counter((device, result["ts0"] + n * result["ts_step_ms"])
                   for device, numbers in result["acked"].items() for n in numbers)


def stored_count(prefix: str) -> int:
    """How many readings of devices `prefix`-... are stored."""
    from telemetry.models import Telemetry

    return Telemetry.objects.filter(device__device_id__startswith=f"{prefix}-").count()


def stored_keys(prefix: str) -> Counter:
    """(device, ts in epoch ms) of every stored reading of devices `prefix`-..., as often as it is stored."""
    from telemetry.models import Telemetry

    rows = Telemetry.objects.filter(device__device_id__startswith=f"{prefix}-").values_list("device_id", "ts")
    return Counter((device, epoch_ms(ts)) for device, ts in rows)


def assert_exactly_once(stored: Counter, accepted: Counter) -> dict[str, int]:
    """The stored multiset of (device, ts) is exactly the accepted one: nothing lost, doubled or extra."""
    lost, extra = accepted - stored, stored - accepted
    assert not lost and not extra, (f"{sum(lost.values())} readings lost, e.g. {sorted(lost)[:5]}; "
                                    f"{sum(extra.values())} stored beyond what was accepted, e.g. {sorted(extra)[:5]}")
    return {"stored": sum(stored.values()), "lost": 0, "doubled": 0}


def assert_redeliveries_counted(*stopped_runs: ManagedProcess, rows_added: int) -> Counter:
    """The ingest's own counters of runs it stopped cleanly agree with the database.

    Those runs added `rows_added` rows; each reading they took in beyond those was a
    redelivery of one already stored and must show as a duplicate (status messages aside).
    """
    assert all("ingest stopped (totals:" in run.output() for run in stopped_runs), "a run did not stop cleanly"
    totals = ingest_totals(*stopped_runs)
    assert totals["rejected"] == 0, totals
    assert totals["stored"] == rows_added, f"the ingest counted {totals['stored']} stored, the database gained {rows_added}"
    redelivered = totals["received"] - totals["statuses"] - rows_added
    assert totals["duplicates"] == redelivered, (
        f"{redelivered} redeliveries received, {totals['duplicates']} counted as duplicates")
    return totals
