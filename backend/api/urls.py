from django.urls import path

from api import views

urlpatterns = [
    path("health/", views.HealthView.as_view(), name="health"),
    path("devices/", views.DeviceListView.as_view(), name="device-list"),
    path("devices/<str:device_id>/", views.DeviceDetailView.as_view(), name="device-detail"),
    path("telemetry/", views.TelemetryListView.as_view(), name="telemetry-list"),
    path("stats/avg/", views.WindowStatsView.as_view(), name="stats-avg"),
    path("alerts/", views.AlertListView.as_view(), name="alert-list"),
]
