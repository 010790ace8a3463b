from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from api import device_views, export_views, views

urlpatterns = [
    path("health/", views.HealthView.as_view(), name="health"),
    path("devices/", views.DeviceListView.as_view(), name="device-list"),
    path("devices/<str:device_id>/", views.DeviceDetailView.as_view(), name="device-detail"),
    path("devices/<str:device_id>/rotate-key/", device_views.DeviceRotateKeyView.as_view(), name="device-rotate-key"),
    path("devices/<str:device_id>/telemetry/", device_views.DeviceTelemetryView.as_view(), name="device-telemetry"),
    path("telemetry/", views.TelemetryListView.as_view(), name="telemetry-list"),
    path("telemetry/export/", export_views.TelemetryExportView.as_view(), name="telemetry-export"),
    path("rejections/", export_views.RejectionListView.as_view(), name="rejection-list"),
    path("telemetry/series/", views.SeriesView.as_view(), name="telemetry-series"),
    path("stats/fleet/", views.FleetStatsView.as_view(), name="stats-fleet"),
    path("stats/summary/", views.FleetSummaryView.as_view(), name="stats-summary"),
    path("stats/ingest-rate/", views.IngestRateView.as_view(), name="stats-ingest-rate"),
    path("config/", views.ConfigView.as_view(), name="config"),
    path("stats/avg/", views.WindowStatsView.as_view(), name="stats-avg"),
    path("alerts/", views.AlertListView.as_view(), name="alert-list"),
    path("alerts/<str:alert_id>/acknowledge/", views.AlertAcknowledgeView.as_view(), name="alert-acknowledge"),
    path("rules/", views.RulesView.as_view(), name="rules"),
    path("rules/device-types/<str:device_type>/", views.DeviceTypeRuleView.as_view(), name="rule-device-type"),
    path("rules/devices/<str:device_id>/", views.DeviceRuleView.as_view(), name="rule-device"),
    path("notifications/", include("api.notifications_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("docs/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="docs-redoc"),
]
