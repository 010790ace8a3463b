"""The HIGH_TEMP step: evaluate the readings stored since the watermark, one alert per episode.

Reads happen outside any transaction (on SQLite that leaves the ingest's writer
unblocked). The write transaction first advances the watermark with a compare-and-set
on its version, so when two workers evaluate the same readings only one commits its
alerts and hot flags; the other's pass changes nothing.
"""
import logging
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from alerts import rules
from alerts.alert_log import log_alerts
from alerts.models import Alert, DeviceAlertState, ReadingWatermark
from alerts.state_rows import ensure_states
from alerts.watermark import Gap, Watermark, advance, transactions_in_progress
from telemetry.models import Telemetry

log = logging.getLogger("alerts")

WATERMARK_NAME = "high_temp"
READINGS_PER_READ = 5000
# Open gaps close at the next pass unless a write transaction stays open; past this
# many, the oldest are given up (with a warning) so that a pass stays small.
MAX_OPEN_GAPS = 1000
GAPS_PER_QUERY = 100
# Readings fetched by id per query, to keep statements small.
IDS_PER_QUERY = 1000


@dataclass(frozen=True, slots=True)
class HighTempStep:
    readings: int  # readings taken past the watermark (or out of its gaps)
    alerts: int
    full: bool  # it read as many readings as allowed: more may be waiting


def load_watermark() -> ReadingWatermark:
    """The stored watermark; the first pass ever starts before the first reading."""
    state, _ = ReadingWatermark.objects.get_or_create(name=WATERMARK_NAME)
    return state


def _rows(queryset) -> list[tuple[int, str, float | None]]:
    return list(queryset.values_list("id", "device_id", "temperature"))


def _gap_rows(gaps: tuple[Gap, ...]) -> list[tuple[int, str, float | None]]:
    rows = []
    for start in range(0, len(gaps), GAPS_PER_QUERY):
        in_gaps = reduce(or_, (Q(id__range=(gap.lo, gap.hi)) for gap in gaps[start : start + GAPS_PER_QUERY]))
        rows += _rows(Telemetry.objects.filter(in_gaps))
    return rows


def _readings_that_matter(rows, *, hot: set[str], threshold: float) -> list[rules.TemperatureReading]:
    """The readings that can open or close an episode, with their ts.

    That is every reading above the threshold, and the others of the devices that are
    hot or get hot here. Leaving out the rest (most readings, usually) changes no
    outcome of rules.high_temp_episodes: a device that is not hot and reads at or below
    the threshold stays as it is. Only these few need their ts, fetched by primary key.
    """
    devices = hot | {device_id for _, device_id, t in rows if rules.is_high(t, threshold)}
    matter = {id_: (device_id, t) for id_, device_id, t in rows if t is not None and device_id in devices}
    ids = sorted(matter)
    readings = []
    for start in range(0, len(ids), IDS_PER_QUERY):
        for id_, ts in Telemetry.objects.filter(id__in=ids[start : start + IDS_PER_QUERY]).values_list("id", "ts"):
            device_id, temperature = matter[id_]
            readings.append(rules.TemperatureReading(id=id_, device_id=device_id, ts=ts, temperature=temperature))
    return readings


def high_temp_evaluate(*, threshold: float, limit: int = READINGS_PER_READ) -> HighTempStep:
    """Evaluate up to `limit` readings past the watermark (and those its gaps received)."""
    state = load_watermark()
    mark = Watermark(state.position, tuple(Gap.from_json(gap) for gap in state.gaps))
    # The order matters (alerts/watermark.py): running transactions, then ids, then again.
    in_progress_before = transactions_in_progress(connection)
    new = _rows(Telemetry.objects.filter(id__gt=mark.position).order_by("id")[:limit])
    refilled = _gap_rows(mark.gaps)
    in_progress_after = transactions_in_progress(connection)
    step = advance(mark, new_ids=[row[0] for row in new], gap_ids=[row[0] for row in refilled],
                   in_progress_before=in_progress_before, in_progress_after=in_progress_after,
                   max_gaps=MAX_OPEN_GAPS)
    if step.dropped_unsettled:
        log.warning("more than %d open gaps in telemetry ids; gave up waiting on the %d oldest",
                    MAX_OPEN_GAPS, step.dropped_unsettled)
    if step.watermark == mark:
        return HighTempStep(readings=0, alerts=0, full=False)

    hot = set(DeviceAlertState.objects.filter(hot=True).values_list("device_id", flat=True))
    readings = _readings_that_matter(new + refilled, hot=hot, threshold=threshold)
    outcome = rules.high_temp_episodes(readings, hot=hot, threshold=threshold)
    flips = {device: now_hot for device, now_hot in outcome.hot_after.items() if now_hot != (device in hot)}

    now = timezone.now()
    with transaction.atomic():
        won = ReadingWatermark.objects.filter(name=WATERMARK_NAME, version=state.version).update(
            position=step.watermark.position,
            gaps=[gap.to_json() for gap in step.watermark.gaps],
            version=F("version") + 1,
            updated_at=now,
        )
        if not won:
            log.debug("another worker evaluated the readings after id %d first", mark.position)
            return HighTempStep(readings=0, alerts=0, full=False)
        Alert.objects.bulk_create(
            Alert(device_id=r.device_id, alert_type=Alert.Type.HIGH_TEMP, ts=now,
                  payload=rules.high_temp_payload(r, threshold=threshold))
            for r in outcome.alerts
        )
        if flips:
            ensure_states(list(flips))
            for now_hot in (True, False):
                DeviceAlertState.objects.filter(pk__in=[d for d, h in flips.items() if h is now_hot]).update(hot=now_hot)
    log_alerts("HIGH_TEMP", [
        (r.device_id, f"{r.temperature:.2f} > {threshold:.2f} at {r.ts.isoformat()}") for r in outcome.alerts
    ])
    return HighTempStep(readings=len(new) + len(refilled), alerts=len(outcome.alerts), full=len(new) == limit)
