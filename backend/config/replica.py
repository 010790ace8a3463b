"""The `replica` database alias, built from DATABASE_REPLICA_URL like `default` is."""
import dj_database_url
from django.core.exceptions import ImproperlyConfigured

POSTGRESQL = "django.db.backends.postgresql"


def replica_database(url: str, primary: dict) -> dict:
    """Settings of the read replica at `url`: the primary's connection options, and no test database of its own."""
    try:
        replica = dj_database_url.parse(url)
    except ValueError as error:
        raise ImproperlyConfigured(f"DATABASE_REPLICA_URL={url!r} is not a database URL: {error}") from None
    if replica["ENGINE"] != POSTGRESQL:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must name a PostgreSQL streaming replica (postgres://...)")
    if primary["ENGINE"] != POSTGRESQL:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs DATABASE_URL on PostgreSQL too: it replicates the primary")
    if not replica.get("NAME"):
        raise ImproperlyConfigured(f"DATABASE_REPLICA_URL={url!r} names no database (postgres://host:port/NAME)")
    replica["CONN_MAX_AGE"] = primary["CONN_MAX_AGE"]
    replica["CONN_HEALTH_CHECKS"] = primary["CONN_HEALTH_CHECKS"]
    replica["OPTIONS"] = {**primary.get("OPTIONS", {}), **replica.get("OPTIONS", {})}
    # The replica holds the primary's data; tests read it through the primary's test database.
    replica["TEST"] = {"MIRROR": "default"}
    return replica
