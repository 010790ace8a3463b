from django.contrib import admin

from devices.models import Device


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["device_id", "name", "status", "last_seen", "device_type", "location", "created_at"]
    list_filter = ["status", "device_type"]
    search_fields = ["device_id", "name", "location"]
    readonly_fields = ["created_at"]
