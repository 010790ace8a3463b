"""Top-level routes: the API under /api/, the admin under /admin/, the dashboard at /."""
from django.contrib import admin
from django.urls import include, path, re_path

from config.metrics_views import metrics
from config.spa import spa_index

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("metrics", metrics, name="metrics"),
    # Everything else is a dashboard route; /api/ and /admin/ keep their own 404s.
    re_path(r"^(?!api/|admin/|static/)(?P<path>.*)$", spa_index, name="spa"),
]
