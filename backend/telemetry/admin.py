from datetime import timedelta

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.functional import cached_property

from devices.admin import DeviceAdmin
from devices.models import Device
from telemetry.export import export_response, fleet_rows
from telemetry.models import RejectedMessage, Telemetry
from telemetry.rejections import reason_kind


class EstimatedCountPaginator(Paginator):
    """Counts the whole table from its id range instead of a COUNT(*) over millions of rows.

    Filtered lists (one device, a search) are counted exactly: their index keeps that cheap.
    """

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if queryset.query.where:
            return queryset.count()
        bounds = queryset.model.objects.aggregate(low=Min("id"), high=Max("id"))
        return 0 if bounds["high"] is None else bounds["high"] - bounds["low"] + 1


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the platform writes: viewable and deletable, never edited by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Telemetry)
class TelemetryAdmin(ReadOnlyAdmin):
    list_display = ["id", "device_id", "ts", "temperature", "humidity", "battery", "received_at"]
    # Exact device id: served by the (device, ts) index, unlike a LIKE '%...%' scan.
    search_fields = ["=device__device_id"]
    search_help_text = "Exact device id"
    raw_id_fields = ["device"]
    ordering = ["-id"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 100


class RejectionDeviceFilter(admin.SimpleListFilter):
    """The devices with the most rejections over the last day; any other by ?device_id= or the search."""

    title = "device id"
    parameter_name = "device_id"
    NO_DEVICE = "-"
    SHOWN = 20

    def lookups(self, request, model_admin):
        busiest = (
            RejectedMessage.objects.filter(received_at__gte=timezone.now() - timedelta(days=1))
            .exclude(device_id=None)
            .values("device_id")
            .annotate(rejections=Count("id"))
            .order_by("-rejections", "device_id")
            .values_list("device_id", flat=True)[: self.SHOWN]
        )
        return [(self.NO_DEVICE, "none (a topic without a device id)")] + [(device, device) for device in busiest]

    def queryset(self, request, queryset):
        if self.value() == self.NO_DEVICE:
            return queryset.filter(device_id=None)
        if self.value():
            return queryset.filter(device_id=self.value())
        return queryset


class RejectionReasonFilter(admin.SimpleListFilter):
    """Reasons by kind: "invalid JSON" covers every "invalid JSON: ..." detail."""

    title = "reason"
    parameter_name = "reason"
    SHOWN = 50

    def lookups(self, request, model_admin):
        # Read from the reason index alone; there are a handful of kinds.
        reasons = RejectedMessage.objects.order_by("reason").values_list("reason", flat=True).distinct()
        return [(kind, kind) for kind in sorted({reason_kind(reason) for reason in reasons})[: self.SHOWN]]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(Q(reason=self.value()) | Q(reason__startswith=f"{self.value()}: "))
        return queryset


@admin.register(RejectedMessage)
class RejectedMessageAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "device_id", "reason", "topic"]
    list_filter = [RejectionReasonFilter, RejectionDeviceFilter]
    # Exact device id: served by the (device_id, received_at) index.
    search_fields = ["=device_id"]
    search_help_text = "Exact device id"
    date_hierarchy = "received_at"
    show_full_result_count = False
    list_per_page = 100


# The device admin gains the readings' export here, where the readings are: the devices
# app's admin imports nothing above it. Django's way to extend another app's admin.
admin.site.unregister(Device)


@admin.register(Device)
class DeviceReadingsAdmin(DeviceAdmin):
    """The devices app's DeviceAdmin, with an action that exports the selected devices' readings."""

    actions = [*DeviceAdmin.actions, "export_readings_csv"]

    @admin.action(description="Export the selected devices' readings as CSV", permissions=["view"])
    def export_readings_csv(self, request, queryset):
        """The readings of the selected devices, streamed as GET /api/telemetry/export/ streams them."""
        device_ids = list(queryset.values_list("device_id", flat=True))
        filename = f"telemetry-{device_ids[0]}.csv" if len(device_ids) == 1 else "telemetry-devices.csv"
        return export_response(fleet_rows(device_ids), "csv", filename)
