"""The worker's per-device state rows (DeviceAlertState), created before set-based updates."""
from alerts.models import DeviceAlertState


def ensure_states(device_ids: list[str]) -> None:
    """Create the state rows these devices lack, so that set-based updates can follow."""
    have = set(DeviceAlertState.objects.filter(pk__in=device_ids).values_list("pk", flat=True))
    missing = [DeviceAlertState(device_id=pk) for pk in device_ids if pk not in have]
    if missing:
        DeviceAlertState.objects.bulk_create(missing, ignore_conflicts=True)
