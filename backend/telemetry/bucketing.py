"""Grouping readings into fixed time buckets in the database (for charts)."""
import math
from datetime import timedelta

from django.db.models import FloatField, Func


class EpochSeconds(Func):
    """Whole seconds since the epoch of a datetime column (SQLite), or fractional (PostgreSQL)."""

    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)", **extra
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)", **extra)


class BucketStart(Func):
    """The epoch second at which a value's bucket of `size` seconds starts."""

    output_field = FloatField()
    template = "(FLOOR(%(expressions)s / %(size)s) * %(size)s)"

    def __init__(self, expression, size: int):
        super().__init__(EpochSeconds(expression), size=int(size))

    def as_sqlite(self, compiler, connection, **extra):
        # Integer division of the (positive, whole-second) epoch is FLOOR on SQLite.
        return self.as_sql(compiler, connection, template="(%(expressions)s / %(size)s * %(size)s)", **extra)


def bucket_seconds_for(window: timedelta, points: int) -> int:
    """The smallest whole-second bucket that covers `window` in at most `points` buckets."""
    return max(1, math.ceil(window.total_seconds() / points))
