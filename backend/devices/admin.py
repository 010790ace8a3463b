from django.contrib import admin

from devices.models import Device
from telemetry.export import export_response, fleet_rows


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["device_id", "name", "status", "last_seen", "device_type", "location", "key_prefix",
                    "decommissioned_at", "created_at"]
    list_filter = ["status", "device_type", ("decommissioned_at", admin.EmptyFieldListFilter)]
    search_fields = ["device_id", "name", "location"]
    # The key hash is never shown; its prefix is enough to tell keys apart. Keys are
    # issued and rotated through the API, which shows a new key once.
    exclude = ["key_hash"]
    readonly_fields = ["created_at", "key_prefix", "decommissioned_at"]
    actions = ["export_readings_csv"]

    @admin.action(description="Export the selected devices' readings as CSV", permissions=["view"])
    def export_readings_csv(self, request, queryset):
        """The readings of the selected devices, streamed as GET /api/telemetry/export/ streams them."""
        device_ids = list(queryset.values_list("device_id", flat=True))
        filename = f"telemetry-{device_ids[0]}.csv" if len(device_ids) == 1 else "telemetry-devices.csv"
        return export_response(fleet_rows(device_ids), "csv", filename)
