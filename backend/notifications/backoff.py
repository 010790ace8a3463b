"""When a failed delivery is tried again (pure): exponential backoff with jitter, for a bounded time."""
import random
from datetime import datetime, timedelta


def retry_delay(*, attempts: int, base_seconds: float, max_seconds: float, rng: random.Random | None = None) -> float:
    """Seconds to wait after the `attempts`-th failed attempt: base x 2^(attempts-1), capped, jittered.

    The jitter keeps only half of the delay fixed ("equal jitter"), so deliveries that
    failed together (an endpoint that went down) do not all come back at the same moment.
    """
    ceiling = min(max_seconds, base_seconds * 2 ** min(attempts - 1, 62))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def next_attempt_at(*, now: datetime, created_at: datetime, attempts: int, base_seconds: float, max_seconds: float,
                    retry_for: timedelta, rng: random.Random | None = None) -> datetime | None:
    """When to try again, or None when that would be past `created_at + retry_for` (give up)."""
    when = now + timedelta(seconds=retry_delay(attempts=attempts, base_seconds=base_seconds,
                                               max_seconds=max_seconds, rng=rng))
    return None if when > created_at + retry_for else when
