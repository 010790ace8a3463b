"""Reads of the health app: the platform's health as /api/health/ reports it."""
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from health.models import Heartbeat


def _fresh(heartbeat: Heartbeat | None, now, state: str) -> bool:
    max_age = timedelta(seconds=settings.HEARTBEAT_STALE_SECONDS)
    return heartbeat is not None and heartbeat.state == state and now - heartbeat.updated_at < max_age


def health_report() -> dict:
    """Database, ingest and worker state; raises DatabaseError when the database is down."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    now = timezone.now()
    beats = {beat.process: beat for beat in Heartbeat.objects.all()}
    mqtt_ok = _fresh(beats.get(Heartbeat.Process.INGEST), now, "connected")
    worker_ok = _fresh(beats.get(Heartbeat.Process.WORKER), now, "running")
    return {
        "status": "healthy" if mqtt_ok and worker_ok else "degraded",
        "database": "connected",
        "mqtt": "connected" if mqtt_ok else "disconnected",
        "worker": "running" if worker_ok else "stopped",
        "timestamp": now,
    }
