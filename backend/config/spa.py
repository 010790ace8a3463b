"""The dashboard: Vite's build served at / with client-side routes falling back to index.html.

WhiteNoise serves the build's files (WHITENOISE_ROOT); this view answers every other
path outside /api/ and /admin/ with index.html so the SPA's router can take it.
"""
from django.conf import settings
from django.http import FileResponse, HttpResponse


def spa_index(request, path: str = ""):
    index = settings.SPA_DIST_DIR / "index.html"
    if not index.exists():
        return HttpResponse(
            "The dashboard is not built yet: run `make frontend-build` (or `make run`). "
            "The API is at /api/ and the admin at /admin/.",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    response = FileResponse(index.open("rb"), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response
