"""Reads of the stored rejected messages."""
from django.db.models import Q, QuerySet

from telemetry.models import RejectedMessage


def rejection_list(*, limit: int, device_id: str | None = None, reason: str | None = None) -> QuerySet:
    """The latest stored rejections, newest first; `reason` is a reason kind (telemetry.rejections.reason_kind)."""
    rejections = RejectedMessage.objects.all()
    if device_id is not None:
        rejections = rejections.filter(device_id=device_id)
    if reason is not None:
        rejections = rejections.filter(Q(reason=reason) | Q(reason__startswith=f"{reason}: "))
    return rejections.order_by("-received_at", "-id").only(
        "received_at", "topic", "device_id", "reason", "payload"
    )[:limit]
