"""Rate limits of HTTP ingestion, per device key and per client address, in the shared "api" cache."""
import logging
import math

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

from api.caching import CACHE_ALIAS
from common.outages import OutageLog
from devices.keys import key_hash

log = logging.getLogger(__name__)

API_KEY_HEADER = "HTTP_X_API_KEY"


def presented_key_hash(request) -> str | None:
    """The hash of the request's X-API-Key, computed once per request; None without one."""
    cached = getattr(request, "_device_key_hash", False)
    if cached is False:
        key = request.META.get(API_KEY_HEADER, "")
        cached = key_hash(key) if key else None
        request._device_key_hash = cached
    return cached


class FixedWindowThrottle(SimpleRateThrottle):
    """DRF's rate syntax and cache keys, counted per fixed window with one cache increment.

    SimpleRateThrottle stores every request's timestamp in one cache entry (6,000 of them
    at 6000/min) and rewrites it on each request, which in the database cache is a large
    write per reading posted; a counter per window costs a few bytes.
    """

    setting: str
    # One per process: a cache outage is logged when it starts and when it ends.
    outage = OutageLog(log, failed="ingestion rate limits not applied, the shared cache fails",
                       recovered="ingestion rate limits apply again")

    @property
    def cache(self):
        """The shared "api" cache, looked up per request as the cached reads do (a test may swap CACHES)."""
        return caches[CACHE_ALIAS]

    def get_rate(self) -> str:
        return getattr(settings, self.setting)

    def allow_request(self, request, view) -> bool:
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends = (window + 1) * self.duration
        try:
            count = self._count(f"{self.key}:{window}")
        except Exception as error:  # noqa: BLE001 - any cache failure: let readings in rather than lose them
            FixedWindowThrottle.outage.failure(error)
            return True
        FixedWindowThrottle.outage.success()
        return count <= self.num_requests

    def _count(self, key: str) -> int:
        # add() starts the window's counter (expiring with it); incr() counts the rest.
        if self.cache.add(key, 1, timeout=self.duration + 1):
            return 1
        try:
            return self.cache.incr(key)
        except ValueError:  # expired between add() and incr()
            self.cache.add(key, 1, timeout=self.duration + 1)
            return 1

    def wait(self) -> float:
        return max(math.ceil(self.window_ends - self.now), 1)


class IngestAddressThrottle(FixedWindowThrottle):
    """INGEST_THROTTLE_ADDRESS per client address (API_NUM_PROXIES decides which address)."""

    scope = "ingest_address"
    setting = "INGEST_THROTTLE_ADDRESS"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class IngestDeviceThrottle(FixedWindowThrottle):
    """INGEST_THROTTLE_DEVICE per API key presented (by its hash); requests without a key are the address's."""

    scope = "ingest_device"
    setting = "INGEST_THROTTLE_DEVICE"

    def get_cache_key(self, request, view) -> str | None:
        hashed = presented_key_hash(request)
        return None if hashed is None else self.cache_format % {"scope": self.scope, "ident": hashed}
