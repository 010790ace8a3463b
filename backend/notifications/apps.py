from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # Alerts know nothing of notifications: they announce what a pass raised and
        # cleared, inside its transaction, and the outbox is written beside them.
        from alerts.services import alerts_changed
        from notifications.services import enqueue_changed_alerts

        alerts_changed.connect(enqueue_changed_alerts, dispatch_uid="notifications.enqueue")
