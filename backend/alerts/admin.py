from django.contrib import admin

from alerts.models import Alert


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["ts", "alert_type", "device", "payload"]
    list_filter = ["alert_type"]
    search_fields = ["=device__device_id"]
    search_help_text = "Exact device id"
    raw_id_fields = ["device"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
