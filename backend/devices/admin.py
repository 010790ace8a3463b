from django.contrib import admin

from devices.models import Device


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
