from django.contrib import admin
from django.utils import timezone

from alerts.models import Alert, AlertRule


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["ts", "alert_type", "severity", "status", "device", "cleared_at", "acknowledged_at",
                    "acknowledged_by", "payload"]
    list_filter = ["status", "severity", "alert_type"]
    search_fields = ["=device__device_id"]
    search_help_text = "Exact device id"
    raw_id_fields = ["device"]
    list_select_related = ["acknowledged_by"]
    show_full_result_count = False
    actions = ["acknowledge"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Acknowledge the selected alerts (the first acknowledgement stays)")
    def acknowledge(self, request, queryset):
        done = queryset.filter(acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now(), acknowledged_by=request.user
        )
        self.message_user(request, f"{done} alerts acknowledged.")


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    """Thresholds per device type or device; the worker reads them at every pass."""

    list_display = ["__str__", "high_temp_threshold", "high_temp_hysteresis", "offline_after_seconds",
                    "low_battery_percent", "low_battery_hysteresis", "anomaly_z", "updated_at"]
    search_fields = ["device_type", "=device__device_id"]
    raw_id_fields = ["device"]
    fieldsets = [
        ("Applies to (one of the two)", {"fields": ["device_type", "device"]}),
        ("Thresholds (empty inherits: a device from its type, a type from the environment)", {"fields": [
            "high_temp_threshold", "high_temp_hysteresis", "offline_after_seconds",
            "low_battery_percent", "low_battery_hysteresis", "anomaly_z",
        ]}),
    ]
