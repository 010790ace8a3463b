"""The cache the web workers share for the heavy reads (api/caching.py): Redis, or a database table."""

# Created by api/migrations/0001_response_cache_table.py, so `migrate` is the whole start-up.
API_CACHE_TABLE = "api_response_cache"
# Redis answers in well under a millisecond; past this a request stops waiting and computes.
REDIS_SOCKET_TIMEOUT_SECONDS = 0.5


def shared_cache(redis_url: str) -> dict:
    """The CACHES entry of the shared cache: Redis at `redis_url` when given, else the database."""
    if redis_url:
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "telemetry-api",
            "OPTIONS": {
                "socket_connect_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
            },
        }
    return {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": API_CACHE_TABLE}
