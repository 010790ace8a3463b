"""Alert rules as pure functions: readings, device state and the time in, decisions out.

Nothing here touches the database; alerts/services.py feeds these functions and writes
what they decide. The semantics are those of docs/contract.md, "Alerts".
"""
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from operator import attrgetter

from common.timefmt import iso_utc

# Each device's readings in time order (ties by id); attrgetter sorts 10,000 readings faster than a lambda.
_TIME_ORDER = attrgetter("device_id", "ts", "id")

# The reference for an OFFLINE device whose last_seen is unknown: any reading is newer.
NEVER_SEEN = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Reading:
    """The part of a stored reading the reading rules (HIGH_TEMP, LOW_BATTERY, ANOMALY) look at."""

    id: int
    device_id: str
    ts: datetime
    temperature: float | None
    humidity: float | None = None
    battery: float | None = None


TemperatureReading = Reading


@dataclass(frozen=True, slots=True)
class Limit:
    """A threshold in force for a device, its hysteresis, and where it was set."""

    level: float
    hysteresis: float = 0.0
    source: str = "default"  # "device", "device_type" or "default": the most specific level that set a field


@dataclass(frozen=True, slots=True)
class Episodes:
    """The readings that open an episode, those that end one, and each device's state afterwards.

    `ended` holds the ids of the opening readings in `alerts` whose episode also ended
    among these readings (their alert is written CLEARED); `closes_open` the devices
    whose episode, open before these readings, ended here (their ACTIVE alert is cleared).
    """

    alerts: list[Reading]
    ended: set[int]
    closes_open: set[str]
    active_after: dict[str, bool]

    @property
    def hot_after(self) -> dict[str, bool]:
        """HIGH_TEMP's name for active_after."""
        return self.active_after


HighTempOutcome = Episodes


def is_high(temperature: float | None, threshold: float) -> bool:
    """Strictly above the threshold; exactly the threshold is not high."""
    return temperature is not None and temperature > threshold


def high_temp_ends(temperature: float, limit: Limit) -> bool:
    """A reading at or below threshold minus hysteresis ends a HIGH_TEMP episode."""
    return temperature <= limit.level - limit.hysteresis


def is_low_battery(battery: float | None, level: float) -> bool:
    """Strictly below the level; exactly the level is not low."""
    return battery is not None and battery < level


def low_battery_ends(battery: float, limit: Limit) -> bool:
    """A battery at or above the level plus hysteresis ends a LOW_BATTERY episode."""
    return battery >= limit.level + limit.hysteresis


class _EpisodeBook:
    """Bookkeeping shared by the episode rules: what opened, what ended, and where."""

    def __init__(self) -> None:
        self.ended: set[int] = set()
        self.closes_open: set[str] = set()
        self.opened_by: dict[str, int] = {}  # device -> id of the reading that opened its episode here

    def open(self, reading: Reading) -> None:
        self.opened_by[reading.device_id] = reading.id

    def close(self, device: str) -> None:
        opener = self.opened_by.pop(device, None)
        if opener is None:
            self.closes_open.add(device)
        else:
            self.ended.add(opener)


def _episodes(readings, *, active, value_of, opens, ends, limit_of) -> Episodes:
    alerts: list[Reading] = []
    book = _EpisodeBook()
    active_after: dict[str, bool] = {}
    for reading in sorted(readings, key=_TIME_ORDER):
        value = value_of(reading)
        if value is None:
            continue
        device = reading.device_id
        limit = limit_of(device)
        was = active_after.get(device, device in active)
        if not was and opens(value, limit):
            alerts.append(reading)
            book.open(reading)
            active_after[device] = True
        elif was and ends(value, limit):
            book.close(device)
            active_after[device] = False
        else:
            active_after[device] = was
    return Episodes(alerts=alerts, ended=book.ended, closes_open=book.closes_open, active_after=active_after)


def _limit_lookup(default: Limit, per_device: Mapping[str, Limit] | None):
    if not per_device:
        return lambda device: default
    return lambda device: per_device.get(device, default)


def high_temp_episodes(
    readings: Iterable[Reading], *, hot: set[str], threshold: float, hysteresis: float = 0.0,
    per_device: Mapping[str, Limit] | None = None,
) -> Episodes:
    """Walk each device's readings in time order and open one episode per hot spell.

    `hot` holds the devices whose episode was already open before these readings. A
    reading above the threshold opens an episode (one alert) unless one is open; a
    reading at or below threshold minus hysteresis closes it (with hysteresis 0, at or
    below the threshold); a reading in between, or without a temperature, changes
    nothing. `per_device` overrides the threshold for some devices. `active_after`
    lists only the devices these readings concern.
    """
    return _episodes(
        readings, active=hot, value_of=lambda r: r.temperature,
        opens=lambda t, limit: is_high(t, limit.level), ends=high_temp_ends,
        limit_of=_limit_lookup(Limit(threshold, hysteresis), per_device),
    )


def low_battery_episodes(
    readings: Iterable[Reading], *, low: set[str], level: float, hysteresis: float = 0.0,
    per_device: Mapping[str, Limit] | None = None,
) -> Episodes:
    """One LOW_BATTERY episode per spell of a battery below the level, ended at level plus hysteresis."""
    return _episodes(
        readings, active=low, value_of=lambda r: r.battery,
        opens=lambda b, limit: is_low_battery(b, limit.level), ends=low_battery_ends,
        limit_of=_limit_lookup(Limit(level, hysteresis), per_device),
    )


ANOMALY_METRICS = ("temperature", "humidity")


@dataclass(slots=True)
class MetricStats:
    """An exponentially weighted mean and variance of one metric, and how many readings fed it."""

    count: int = 0
    mean: float = 0.0
    variance: float = 0.0

    def update(self, value: float, alpha: float) -> None:
        """Take one more value in (the first one is the mean)."""
        if self.count == 0:
            self.mean, self.variance = value, 0.0
        else:
            diff = value - self.mean
            increment = alpha * diff
            self.mean += increment
            self.variance = (1 - alpha) * (self.variance + diff * increment)
        self.count += 1


@dataclass(slots=True)
class AnomalyState:
    """What the ANOMALY rule keeps per device between passes (columns of DeviceAlertState)."""

    metrics: dict[str, MetricStats] = field(default_factory=dict)
    active: bool = False
    normal_streak: int = 0

    def to_row(self) -> tuple:
        """(active, normal_streak, then count, mean, variance of each metric in ANOMALY_METRICS)."""
        row: list = [self.active, self.normal_streak]
        for name in ANOMALY_METRICS:
            stats = self.metrics.get(name) or MetricStats()
            row += [stats.count, stats.mean, stats.variance]
        return tuple(row)

    @classmethod
    def from_row(cls, row) -> "AnomalyState":
        """The inverse of to_row."""
        metrics = {}
        for i, name in enumerate(ANOMALY_METRICS):
            count, mean, variance = row[2 + 3 * i : 5 + 3 * i]
            if count:
                metrics[name] = MetricStats(int(count), float(mean), float(variance))
        return cls(metrics=metrics, active=bool(row[0]), normal_streak=int(row[1]))


@dataclass(frozen=True, slots=True)
class AnomalySettings:
    """The ANOMALY rule's parameters: K (z_limit), the warm-up M, the clear count N, the weight."""

    z_limit: float = 4.0
    warmup: int = 30
    clear_after: int = 5
    alpha: float = 0.05
    min_std: float = 0.1


@dataclass(frozen=True, slots=True)
class AnomalyFinding:
    reading: Reading
    metric: str
    value: float
    z: float
    mean: float
    std: float
    z_limit: float


@dataclass(frozen=True, slots=True)
class AnomalyOutcome:
    """Findings that open an ANOMALY episode, `ended` and `closes_open` as in Episodes, the new states."""

    alerts: list[AnomalyFinding]
    ended: set[int]
    closes_open: set[str]
    states: dict[str, AnomalyState]


def z_score(value: float, stats: MetricStats, min_std: float) -> tuple[float, float]:
    """How many standard deviations `value` is from the mean (the std floored at min_std), and the std."""
    std = max(math.sqrt(max(stats.variance, 0.0)), min_std)
    return abs(value - stats.mean) / std, std


def anomaly_episodes(
    readings: Iterable[Reading], *, states: Mapping[str, AnomalyState], config: AnomalySettings,
    z_limit_of: Mapping[str, float] | None = None,
) -> AnomalyOutcome:
    """Judge each reading against its device's running mean and std, then take it into them.

    A metric is judged once it has `warmup` readings: more than `z_limit` standard
    deviations from the mean is anomalous. The first anomalous reading opens an episode
    (one alert); `clear_after` normal readings in a row end it. Every reading, anomalous
    or not, updates the statistics, so a lasting change of level becomes the new normal.
    The states in `states` are updated in place; those of the devices concerned are returned.
    """
    z_limit_of = z_limit_of or {}
    out: dict[str, AnomalyState] = {}
    alerts: list[AnomalyFinding] = []
    book = _EpisodeBook()
    for reading in sorted(readings, key=_TIME_ORDER):
        device = reading.device_id
        if device not in out:
            out[device] = states.get(device) or AnomalyState()
        state = out[device]
        z_limit = z_limit_of.get(device, config.z_limit)
        finding = None
        seen = False
        for metric in ANOMALY_METRICS:
            value = getattr(reading, metric)
            if value is None:
                continue
            seen = True
            stats = state.metrics.setdefault(metric, MetricStats())
            if stats.count >= config.warmup and finding is None:
                z, std = z_score(value, stats, config.min_std)
                if z > z_limit:
                    finding = AnomalyFinding(reading, metric, value, z, stats.mean, std, z_limit)
            stats.update(value, config.alpha)
        if not seen:
            continue
        if finding is not None:
            state.normal_streak = 0
            if not state.active:
                state.active = True
                alerts.append(finding)
                book.open(reading)
        elif state.active:
            state.normal_streak += 1
            if state.normal_streak >= config.clear_after:
                state.active = False
                state.normal_streak = 0
                book.close(device)
    return AnomalyOutcome(alerts=alerts, ended=book.ended, closes_open=book.closes_open, states=out)


def offline_deadline(*, now: datetime, offline_after: float) -> datetime:
    """A device whose last_seen is before this instant has been silent too long."""
    return now - timedelta(seconds=offline_after)


class OfflineDeviceDecision(Enum):
    """What to do with a device that is OFFLINE."""

    WAIT = "wait"  # still silent
    ONLINE = "online"  # it has sent since it went OFFLINE
    ADOPT = "adopt"  # OFFLINE without a recorded transition (e.g. set in the admin): record one


def offline_device_decision(
    *, last_seen: datetime | None, offline_since: datetime | None, offline_last_seen: datetime | None
) -> OfflineDeviceDecision:
    """Whether an OFFLINE device has come back, judged against what was recorded when it left."""
    if offline_since is None:
        return OfflineDeviceDecision.ADOPT
    if last_seen is not None and last_seen > (offline_last_seen or NEVER_SEEN):
        return OfflineDeviceDecision.ONLINE
    return OfflineDeviceDecision.WAIT


def high_temp_payload(reading: Reading, *, threshold: float, hysteresis: float = 0.0,
                      source: str = "default") -> dict:
    """HIGH_TEMP payload: the temperature, the rule it broke (and where it was set) and the reading's time."""
    return {"temperature": reading.temperature, "threshold": threshold, "hysteresis": hysteresis,
            "source": source, "ts": iso_utc(reading.ts)}


def low_battery_payload(reading: Reading, *, limit: Limit) -> dict:
    """LOW_BATTERY payload: the battery, the rule it broke (and where it was set) and the reading's time."""
    return {"battery": reading.battery, "threshold": limit.level, "hysteresis": limit.hysteresis,
            "source": limit.source, "ts": iso_utc(reading.ts)}


def anomaly_payload(finding: AnomalyFinding, *, source: str) -> dict:
    """ANOMALY payload: the metric and value, its z-score against the recent mean and std, K."""
    return {"metric": finding.metric, "value": finding.value, "z": round(finding.z, 3),
            "mean": round(finding.mean, 4), "std": round(finding.std, 4), "z_limit": finding.z_limit,
            "source": source, "ts": iso_utc(finding.reading.ts)}


def offline_payload(*, last_seen: datetime, offline_after: float | None = None, source: str = "default") -> dict:
    """OFFLINE payload: when the device was last heard from, and the silence allowed (and where it was set)."""
    payload = {"last_seen": iso_utc(last_seen)}
    if offline_after is not None:
        payload.update(offline_after_seconds=offline_after, source=source)
    return payload


def will_offline_payload(*, last_seen: datetime, since: datetime) -> dict:
    """OFFLINE payload of a device whose last will said so: when it was last heard, when the will came."""
    return {**offline_payload(last_seen=last_seen), "reason": "will", "link_changed_at": iso_utc(since)}


def online_payload(*, offline_since: datetime) -> dict:
    """ONLINE payload: since when the device had been OFFLINE."""
    return {"offline_since": iso_utc(offline_since)}


SEVERITY = {
    "HIGH_TEMP": "critical",
    "OFFLINE": "critical",
    "LOW_BATTERY": "warning",
    "ANOMALY": "warning",
    "ONLINE": "info",
}
