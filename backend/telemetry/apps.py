from django.apps import AppConfig


class TelemetryConfig(AppConfig):
    name = "telemetry"
    verbose_name = "Telemetry"

    def ready(self) -> None:
        # A purge deletes what came before the decommission only: a device registered
        # again keeps its new readings.
        from devices.history import device_history_register
        from telemetry.models import RejectedMessage, Telemetry

        device_history_register("telemetry.readings", lambda device_id, cutoff: Telemetry.objects.filter(
            device_id=device_id, received_at__lte=cutoff))
        device_history_register("telemetry.rejections", lambda device_id, cutoff: RejectedMessage.objects.filter(
            device_id=device_id, received_at__lte=cutoff))
