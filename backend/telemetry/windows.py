"""Pure parsing of time windows such as `5m`, `24h` or `7d`."""
import re
from datetime import timedelta

WINDOW_PATTERN = re.compile(r"(\d+)([smhd])")
MAX_WINDOW = timedelta(days=30)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_window(text: str) -> timedelta:
    """The window's length; ValueError with a reason when it is malformed, zero or over 30 days."""
    match = WINDOW_PATTERN.fullmatch(text)
    if match is None:
        raise ValueError("window must be a number followed by s, m, h or d, e.g. 5m")
    amount, unit = match.groups()
    if len(amount) > 9:
        raise ValueError("window must be at most 30d")
    window = timedelta(seconds=int(amount) * _UNIT_SECONDS[unit])
    if window <= timedelta(0):
        raise ValueError("window must be longer than zero")
    if window > MAX_WINDOW:
        raise ValueError("window must be at most 30d")
    return window
