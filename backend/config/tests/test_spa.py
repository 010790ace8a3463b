"""The dashboard's client-side routes fall back to index.html; /api/ and /admin/ stay untouched."""
import pytest


@pytest.fixture
def built_spa(settings, tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><div id=root></div>")
    settings.SPA_DIST_DIR = tmp_path
    settings.WHITENOISE_ROOT = tmp_path  # read when the test client builds its middleware


@pytest.mark.parametrize("path", ["/", "/devices/device-001", "/alerts?type=OFFLINE"])
def test_dashboard_routes_get_the_index_page(client, built_spa, path):
    response = client.get(path)
    assert response.status_code == 200
    assert b"<div id=root>" in b"".join(response.streaming_content)


@pytest.mark.django_db
def test_api_and_admin_are_not_swallowed_by_the_dashboard(client, built_spa):
    assert client.get("/api/no-such-endpoint/").status_code == 404
    assert client.get("/api/health/")["Content-Type"] == "application/json"
    assert client.get("/admin/").status_code == 302


def test_a_missing_build_says_how_to_build_it(client, settings, tmp_path):
    settings.SPA_DIST_DIR = tmp_path / "missing"
    settings.WHITENOISE_ROOT = None
    response = client.get("/")
    assert response.status_code == 503
    assert b"make frontend-build" in response.content
