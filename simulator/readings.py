"""Believable readings for one simulated device: pure, seeded state machines.

Nothing here touches the network or the clock: a generator is advanced one reading
at a time, so a seed replays the same sequence wherever it runs.
"""
import random
import re
from dataclasses import dataclass

# A copy of the platform's rule, owned by backend/devices/ids.py: the simulator runs
# with paho-mqtt alone, so it cannot import it. Change both together (test_device_ids.py
# fails while they differ).
DEVICE_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

TEMPERATURE_RANGE = (20.0, 35.0)
HUMIDITY_RANGE = (30.0, 70.0)
# Outside an excursion the walk stays below the platform's default HIGH_TEMP
# threshold (30 °C), so every HIGH_TEMP episode is a deliberate excursion that ends.
NORMAL_CEILING = 29.5
# Setpoints the normal walk is pulled towards; the setpoint itself drifts slowly.
SETPOINT_RANGE = (22.0, 27.0)
# `--heat`: the walk is held in this band, above the threshold on every reading.
HEAT_RANGE = (30.5, 35.0)
# Chance per reading that an excursion starts: about one every 300 readings.
EXCURSION_CHANCE = 1 / 300
EXCURSION_PEAK = (30.8, 34.5)
EXCURSION_HOLD = (3, 12)  # readings at the peak before it cools down
# Battery drain per reading, in percentage points: about 1 % per 1,000 readings.
BATTERY_DRAIN = (0.0005, 0.0015)


@dataclass(frozen=True, slots=True)
class Reading:
    """One set of metrics, rounded as a device would report them."""

    temperature: float
    humidity: float
    battery: float


def fleet_device_ids(prefix: str, count: int) -> list[str]:
    """`prefix-001` .. `prefix-N`: at least three digits, so an id does not depend on the fleet size."""
    return [f"{prefix}-{number:03d}" for number in range(1, count + 1)]


def device_seed(seed: int, device_id: str, stream: str) -> str:
    """A per-device, per-purpose seed, so devices differ and drops do not shift readings."""
    return f"{seed}/{device_id}/{stream}"


def reading_payload(device_id: str, ts_ms: int, reading: Reading) -> dict:
    """The MQTT payload of one reading, in the contract's field names."""
    return {
        "deviceId": device_id,
        "ts": ts_ms,
        "temperature": reading.temperature,
        "humidity": reading.humidity,
        "battery": reading.battery,
    }


def _reflect(value: float, low: float, high: float) -> float:
    """Fold a step that left [low, high] back inside, as a walk bouncing off a wall."""
    if value > high:
        value = high - (value - high)
    if value < low:
        value = low + (low - value)
    return min(max(value, low), high)


class ReadingGenerator:
    """A device's temperature, humidity and battery as bounded random walks.

    Temperature wanders around a slowly drifting setpoint between 20 and 29.5 °C.
    Rarely an excursion starts: it climbs over 30 °C within a few readings, stays
    near its peak for several, then cools back into the normal band, so a HIGH_TEMP
    episode both starts and ends. With `heat` the walk is held above 30 °C.
    """

    def __init__(self, seed: int | str, *, heat: bool = False) -> None:
        self._rng = random.Random(seed)
        rng = self._rng
        self.heat = heat
        self._setpoint = rng.uniform(*SETPOINT_RANGE)
        self._temperature = rng.uniform(31.0, 33.0) if heat else self._setpoint + rng.uniform(-1.0, 1.0)
        self._humidity = rng.uniform(40.0, 60.0)
        self._battery = rng.uniform(70.0, 100.0)
        # Excursion state: None, "rising", "holding" or "cooling".
        self._phase: str | None = None
        self._peak = 0.0
        self._hold_left = 0

    def next(self) -> Reading:
        """Advance one reading."""
        rng = self._rng
        self._step_temperature(rng)
        self._humidity = _reflect(
            self._humidity + rng.gauss(0.0, 0.5) + 0.003 * (50.0 - self._humidity), *HUMIDITY_RANGE
        )
        self._battery = max(0.0, self._battery - rng.uniform(*BATTERY_DRAIN))
        return Reading(
            temperature=round(self._temperature, 1),
            humidity=round(self._humidity, 1),
            battery=round(self._battery, 1),
        )

    def _step_temperature(self, rng: random.Random) -> None:
        low, high = TEMPERATURE_RANGE
        if self.heat:
            target = sum(HEAT_RANGE) / 2
            self._temperature = _reflect(
                self._temperature + rng.gauss(0.0, 0.2) + 0.05 * (target - self._temperature), *HEAT_RANGE
            )
            return
        self._setpoint = min(max(self._setpoint + rng.gauss(0.0, 0.02), SETPOINT_RANGE[0]), SETPOINT_RANGE[1])
        if self._phase is None and rng.random() < EXCURSION_CHANCE:
            self._phase = "rising"
            self._peak = rng.uniform(*EXCURSION_PEAK)
            self._hold_left = rng.randint(*EXCURSION_HOLD)
        if self._phase == "rising":
            self._temperature = min(self._temperature + rng.uniform(0.6, 1.4), self._peak)
            if self._temperature >= self._peak:
                self._phase = "holding"
        elif self._phase == "holding":
            # Near the peak but never back at the threshold until the hold is over.
            self._temperature = min(max(self._temperature + rng.gauss(0.0, 0.2), 30.3), high)
            self._hold_left -= 1
            if self._hold_left <= 0:
                self._phase = "cooling"
        elif self._phase == "cooling":
            self._temperature -= rng.uniform(0.4, 1.0)
            if self._temperature <= NORMAL_CEILING:
                self._phase = None
        else:
            self._temperature = _reflect(
                self._temperature + rng.gauss(0.0, 0.15) + 0.05 * (self._setpoint - self._temperature),
                low,
                NORMAL_CEILING,
            )
        self._temperature = min(max(self._temperature, low), high)


class Dropper:
    """Decides which messages a lossy link loses: each one with probability 1/N (0 = none)."""

    def __init__(self, one_in: int, seed: int | str) -> None:
        if one_in < 0:
            raise ValueError("drop rate must be 0 (never) or a positive N (1 in N)")
        self.one_in = one_in
        self._rng = random.Random(seed)

    def drops(self) -> bool:
        """Whether the next message is lost."""
        return self.one_in > 0 and self._rng.random() * self.one_in < 1.0


class SimulatedDevice:
    """One device: its id, its topic, its readings and its lossy link."""

    __slots__ = ("device_id", "topic", "readings", "dropper", "meant")

    def __init__(self, device_id: str, *, seed: int, heat: bool = False, drop_rate: int = 30) -> None:
        self.device_id = device_id
        self.topic = f"devices/{device_id}/telemetry"
        self.readings = ReadingGenerator(device_seed(seed, device_id, "readings"), heat=heat)
        self.dropper = Dropper(drop_rate, device_seed(seed, device_id, "drops"))
        self.meant = 0  # messages this device meant to send, dropped ones included

    def next_message(self, ts_ms: int) -> tuple[dict, bool]:
        """The next payload and whether the link drops it."""
        self.meant += 1
        return reading_payload(self.device_id, ts_ms, self.readings.next()), self.dropper.drops()
