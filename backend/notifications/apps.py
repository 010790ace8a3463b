from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # Alerts know nothing of notifications: they announce what a pass raised and
        # cleared, inside its transaction, and the outbox is written beside them.
        from alerts.services import alerts_changed
        from alerts.worker_threads import worker_thread_register
        from notifications.services import enqueue_changed_alerts
        from notifications.worker import NotificationThread

        alerts_changed.connect(enqueue_changed_alerts, dispatch_uid="notifications.enqueue")
        # And the worker sends the outbox's deliveries from a thread of its own.
        worker_thread_register("notifications.drain", NotificationThread)
