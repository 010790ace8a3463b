"""Pure parsing of time windows such as `5m`, `24h` or `7d`: the one definition of their format."""
import re
from datetime import timedelta

UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_UNITS = "".join(UNIT_SECONDS)
WINDOW_PATTERN = re.compile(rf"(\d+)([{_UNITS}])")
# The same format as a JSON Schema (OpenAPI) pattern: anchored, no groups.
WINDOW_SCHEMA_PATTERN = rf"^\d+[{_UNITS}]$"
MAX_WINDOW = timedelta(days=30)


def format_window(window: timedelta) -> str:
    """A whole number of seconds in the window format, in the largest unit that divides it (`5m`)."""
    seconds = int(window.total_seconds())
    for unit, size in sorted(UNIT_SECONDS.items(), key=lambda item: -item[1]):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    raise AssertionError("the table has a one-second unit")


_UNIT_LIST = f"{', '.join(_UNITS[:-1])} or {_UNITS[-1]}"
_TOO_LONG = f"window must be at most {format_window(MAX_WINDOW)}"
WINDOW_DESCRIPTION = f"A number and a unit ({_UNIT_LIST}), longer than zero and at most {format_window(MAX_WINDOW)}."


def parse_window(text: str) -> timedelta:
    """The window's length; ValueError with a reason when it is malformed, zero or over MAX_WINDOW."""
    match = WINDOW_PATTERN.fullmatch(text)
    if match is None:
        raise ValueError(f"window must be a number followed by {_UNIT_LIST}, e.g. 5m")
    amount, unit = match.groups()
    if len(amount) > 9:
        raise ValueError(_TOO_LONG)
    window = timedelta(seconds=int(amount) * UNIT_SECONDS[unit])
    if window <= timedelta(0):
        raise ValueError("window must be longer than zero")
    if window > MAX_WINDOW:
        raise ValueError(_TOO_LONG)
    return window
