"""Writes of the health app: a background process reports that it is alive."""
from django.utils import timezone

from health.models import Heartbeat


def heartbeat_beat(*, process: str, state: str, details: dict | None = None) -> None:
    """Record that `process` is alive now and in `state`."""
    Heartbeat.objects.update_or_create(
        process=process,
        defaults={"state": state, "details": details or {}, "updated_at": timezone.now()},
    )
