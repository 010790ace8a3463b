from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from alerts.models import Alert, DeviceAlertState
        from devices.history import device_history_register

        device_history_register("alerts.alerts", lambda device_id, cutoff: Alert.objects.filter(
            device_id=device_id, ts__lte=cutoff))
        # Last: what the worker remembers of the device, unless it has been registered again.
        device_history_register("alerts.state", lambda device_id, cutoff: DeviceAlertState.objects.filter(
            device_id=device_id, device__decommissioned_at__isnull=False))
