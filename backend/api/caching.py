"""A few seconds of caching for the heavy reads, shared by every web worker, so a stampede costs one query.

Only what a view hands to `cached()` is cached, in the "api" cache (config/caches.py);
permissions and throttles have run before the view. Concurrent misses of one key wait
for the first to compute it instead of all computing. The cache is an optimisation
only: when it fails, the answer is computed as if there were none.
"""
import logging
import time
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import caches

log = logging.getLogger(__name__)

CACHE_ALIAS = "api"
# The first miss of a key holds this lock while it computes. A compute slower than
# this lets the next miss compute too, and a worker killed mid-compute blocks nobody
# for longer.
LOCK_SECONDS = 5.0
POLL_SECONDS = 0.02
OUTAGE_LOG_INTERVAL_SECONDS = 60.0

_MISSING = object()
_last_outage_log = float("-inf")


def cache_key(endpoint: str, params: dict) -> str:
    """The key of an endpoint's answer for normalised parameters (sorted, plain values)."""
    return f"{endpoint}?{urlencode(sorted(params.items()))}"


def cached(endpoint: str, params: dict, compute):
    """compute()'s result, reused for API_CACHE_SECONDS by every request with the same endpoint and parameters."""
    ttl = settings.API_CACHE_SECONDS
    if ttl <= 0:
        return compute()
    cache = caches[CACHE_ALIAS]
    key = cache_key(endpoint, params)
    lock = f"{key}#computing"
    try:
        value = cache.get(key, _MISSING)
        if value is not _MISSING:
            return value
        holds_lock = cache.add(lock, True, timeout=LOCK_SECONDS)
        if not holds_lock:
            value = _wait_for_first(cache, key, lock)
            if value is not _MISSING:
                return value
    except Exception as error:  # noqa: BLE001 - any failure of the cache means: compute
        _log_outage(error)
        return compute()
    try:
        value = compute()
        _quietly(cache.set, key, value, timeout=ttl)
        return value
    finally:
        if holds_lock:
            _quietly(cache.delete, lock)


def _wait_for_first(cache, key: str, lock: str):
    """The value the lock holder stores, or _MISSING once its lock is gone or has timed out."""
    deadline = time.monotonic() + LOCK_SECONDS
    while time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        found = cache.get_many([key, lock])
        if key in found:
            return found[key]
        if lock not in found:  # the holder failed (its error is its own answer): compute here
            return _MISSING
    return _MISSING


def _quietly(operation, *args, **kwargs) -> None:
    try:
        operation(*args, **kwargs)
    except Exception as error:  # noqa: BLE001
        _log_outage(error)


def _log_outage(error: Exception) -> None:
    """Log a cache failure at most once a minute per process: an outage fails every request."""
    global _last_outage_log
    now = time.monotonic()
    if now - _last_outage_log >= OUTAGE_LOG_INTERVAL_SECONDS:
        _last_outage_log = now
        log.warning("API cache unavailable, computing answers without it: %s: %s", type(error).__name__, error)
