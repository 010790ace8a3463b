from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import Max, Min
from django.utils.functional import cached_property

from telemetry.models import RejectedMessage, Telemetry


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


@admin.register(RejectedMessage)
class RejectedMessageAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "topic", "reason"]
    search_fields = ["topic", "reason"]
    date_hierarchy = "received_at"
    show_full_result_count = False
