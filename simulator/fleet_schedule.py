"""When each message of a fleet is due: pure arithmetic over numbered slots.

Devices are staggered evenly across the interval rather than firing together:
slot m belongs to device m % N and is due `m * interval / N` seconds after the
start, so a fleet of 1,000 devices at 1 s publishes one message every millisecond.
"""
import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Silence:
    """A window, in seconds after the start, in which no device publishes."""

    after: float
    length: float

    @property
    def end(self) -> float:
        """Seconds after the start at which publishing resumes."""
        return self.after + self.length

    def covers(self, offset: float) -> bool:
        """Whether a slot due `offset` seconds after the start falls in the silence."""
        return self.after <= offset < self.end


class FleetSchedule:
    """Maps slot numbers to a device, a due time and a timestamp offset."""

    def __init__(self, devices: int, interval: float, silence: Silence | None = None) -> None:
        if devices < 1 or interval <= 0:
            raise ValueError("a schedule needs at least one device and a positive interval")
        self.devices = devices
        self.interval = interval
        self.step = interval / devices
        self.silence = silence
        self._interval_ms = interval * 1000.0

    def device(self, slot: int) -> int:
        """Index of the device that publishes in `slot`."""
        return slot % self.devices

    def offset(self, slot: int) -> float:
        """Seconds after the start at which `slot` is due."""
        return slot * self.step

    def ts_offset_ms(self, slot: int) -> int:
        """Milliseconds after the start for the reading's `ts`.

        Computed per device as round number of whole intervals plus a fixed stagger,
        so one device's timestamps are exactly one interval apart and never repeat
        (the platform keys readings on (device, ts)) for intervals of 1 ms or more.
        """
        message, device = divmod(slot, self.devices)
        return math.floor(message * self._interval_ms) + math.floor(device * self._interval_ms / self.devices)

    def audible(self, slot: int) -> int:
        """`slot` itself, or the first slot after the silence when `slot` falls inside it."""
        if self.silence is None or not self.silence.covers(self.offset(slot)):
            return slot
        return max(slot + 1, math.ceil(self.silence.end / self.step))

    def slots_before(self, elapsed: float) -> int:
        """How many slots are due `elapsed` seconds after the start."""
        return math.floor(elapsed / self.step) + 1 if elapsed >= 0 else 0
