"""Alert rules as pure functions: readings, device state and the time in, decisions out.

Nothing here touches the database; alerts/services.py feeds these functions and writes
what they decide. The semantics are those of docs/contract.md, "Alerts".
"""
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum

from common.timefmt import iso_utc

# The reference for an OFFLINE device whose last_seen is unknown: any reading is newer.
NEVER_SEEN = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class TemperatureReading:
    """The part of a stored reading the HIGH_TEMP rule looks at."""

    id: int
    device_id: str
    ts: datetime
    temperature: float | None


@dataclass(frozen=True, slots=True)
class HighTempOutcome:
    """The readings that open a HIGH_TEMP episode, and each device's hot flag afterwards."""

    alerts: list[TemperatureReading]
    hot_after: dict[str, bool]


def is_high(temperature: float | None, threshold: float) -> bool:
    """Strictly above the threshold; exactly the threshold is not high."""
    return temperature is not None and temperature > threshold


def high_temp_episodes(
    readings: Iterable[TemperatureReading], *, hot: set[str], threshold: float
) -> HighTempOutcome:
    """Walk each device's readings in time order and open one episode per hot spell.

    `hot` holds the devices whose episode was already open before these readings. A
    reading above the threshold opens an episode (one alert) unless one is open; a
    reading at or below it closes the episode; a reading without a temperature
    changes nothing. `hot_after` lists only the devices these readings concern.
    """
    alerts: list[TemperatureReading] = []
    hot_after: dict[str, bool] = {}
    for reading in sorted(readings, key=lambda r: (r.device_id, r.ts, r.id)):
        if reading.temperature is None:
            continue
        was_hot = hot_after.get(reading.device_id, reading.device_id in hot)
        now_hot = is_high(reading.temperature, threshold)
        if now_hot and not was_hot:
            alerts.append(reading)
        hot_after[reading.device_id] = now_hot
    return HighTempOutcome(alerts=alerts, hot_after=hot_after)


def offline_deadline(*, now: datetime, offline_after: float) -> datetime:
    """A device whose last_seen is before this instant has been silent too long."""
    return now - timedelta(seconds=offline_after)


def is_silent(*, last_seen: datetime | None, now: datetime, offline_after: float) -> bool:
    """Silent for more than `offline_after` seconds (a device never seen is not silent)."""
    return last_seen is not None and last_seen < offline_deadline(now=now, offline_after=offline_after)


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


def high_temp_payload(reading: TemperatureReading, *, threshold: float) -> dict:
    """HIGH_TEMP payload: the temperature, the threshold it crossed and the reading's time."""
    return {"temperature": reading.temperature, "threshold": threshold, "ts": iso_utc(reading.ts)}


def offline_payload(*, last_seen: datetime) -> dict:
    """OFFLINE payload: when the device was last heard from."""
    return {"last_seen": iso_utc(last_seen)}


def online_payload(*, offline_since: datetime) -> dict:
    """ONLINE payload: since when the device had been OFFLINE."""
    return {"offline_since": iso_utc(offline_since)}
