"""Reads of the health app: the platform's health as /api/health/ reports it."""
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from health.models import Heartbeat

# An ingest member heard from within this long counts, unless it said `stopped`: one
# that died (SIGKILL, a lost host) makes mqtt `disconnected` until then.
INGEST_MEMBER_WINDOW = timedelta(minutes=5)


def _fresh(heartbeat: Heartbeat | None, now, state: str) -> bool:
    max_age = timedelta(seconds=settings.HEARTBEAT_STALE_SECONDS)
    return heartbeat is not None and heartbeat.state == state and now - heartbeat.updated_at < max_age


def _ingest_connected(now) -> bool:
    """Every ingest member heard from lately, and not stopped, is fresh and connected (and there is one)."""
    members = [
        beat
        for beat in Heartbeat.objects.filter(
            Q(process=Heartbeat.Process.INGEST) | Q(process__startswith=f"{Heartbeat.Process.INGEST}:"),
            updated_at__gte=now - INGEST_MEMBER_WINDOW,
        ).exclude(state="stopped")
    ]
    return bool(members) and all(_fresh(beat, now, "connected") for beat in members)


def health_report() -> dict:
    """Database, ingest and worker state; raises DatabaseError when the database is down."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    now = timezone.now()
    mqtt_ok = _ingest_connected(now)
    worker_ok = _fresh(Heartbeat.objects.filter(pk=Heartbeat.Process.WORKER).first(), now, "running")
    return {
        "status": "healthy" if mqtt_ok and worker_ok else "degraded",
        "database": "connected",
        "mqtt": "connected" if mqtt_ok else "disconnected",
        "worker": "running" if worker_ok else "stopped",
        "timestamp": now,
    }
