"""Who may read and write: staff for writes (session with CSRF, or token), reads open or closed by API_READ_AUTH."""
import pytest
from django.test import Client

from devtools.factories import make_device, make_token
from devices.models import Device

pytestmark = pytest.mark.django_db

DEV_SERVER = "http://localhost:5173"


def csrf_client(user) -> tuple[Client, str]:
    """A browser-like client: logged in, CSRF enforced, holding the csrftoken cookie."""
    browser = Client(enforce_csrf_checks=True)
    browser.get("/admin/login/")  # the login form sets the cookie, as for a person signing in
    browser.force_login(user)
    return browser, browser.cookies["csrftoken"].value


def write(client, **headers):
    """A write to an endpoint that offers no writes: 405 once past authentication, 403 before."""
    return client.post("/api/config/", data={"device_id": "new"}, content_type="application/json", headers=headers)


def test_a_staff_token_made_with_drf_create_token_passes_the_write_check(client, staff):
    response = write(client, Authorization=f"Token {make_token(staff)}")
    assert response.status_code == 405
    assert not Device.objects.filter(device_id="new").exists()


def test_a_token_of_a_user_who_is_not_staff_cannot_write(client, viewer):
    response = write(client, Authorization=f"Token {make_token(viewer)}")
    assert response.status_code == 403
    assert response.json() == {"error": "You do not have permission to perform this action."}


def test_an_unknown_token_is_refused_with_the_error_shape(client):
    response = write(client, Authorization="Token 0123456789abcdef0123456789abcdef01234567")
    assert response.status_code == 403
    assert response.json() == {"error": "Invalid token."}


def test_an_unknown_token_is_refused_even_on_a_read_that_needs_none(client):
    response = client.get("/api/config/", headers={"Authorization": "Token not-a-real-token"})
    assert response.status_code == 403
    assert response.json() == {"error": "Invalid token."}


def test_a_staff_session_write_without_a_csrf_token_is_refused(staff):
    browser, _ = csrf_client(staff)
    response = write(browser)
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]


def test_a_staff_session_write_with_the_csrf_token_passes_the_write_check(staff):
    browser, token = csrf_client(staff)
    assert write(browser, X_CSRFToken=token).status_code == 405


def test_a_staff_session_write_from_the_vite_dev_server_origin_is_trusted(staff):
    browser, token = csrf_client(staff)
    assert write(browser, X_CSRFToken=token, Origin=DEV_SERVER).status_code == 405


def test_a_staff_session_write_from_a_foreign_origin_is_refused_even_with_the_token(staff):
    browser, token = csrf_client(staff)
    response = write(browser, X_CSRFToken=token, Origin="http://evil.example")
    assert response.status_code == 403
    assert "Origin checking failed" in response.json()["error"]


def test_a_signed_in_user_who_is_not_staff_cannot_write(viewer):
    browser, token = csrf_client(viewer)
    assert write(browser, X_CSRFToken=token).status_code == 403


def test_reads_are_open_by_default(client):
    make_device("device-001")
    assert client.get("/api/devices/").status_code == 200


def test_with_api_read_auth_reads_need_a_signed_in_user(client, settings, viewer):
    settings.API_READ_AUTH = True
    make_device("device-001")
    response = client.get("/api/devices/device-001/")
    assert response.status_code == 403
    assert response.json() == {"error": "Authentication credentials were not provided."}

    assert client.get("/api/devices/", headers={"Authorization": f"Token {make_token(viewer)}"}).status_code == 200
    client.force_login(viewer)
    assert client.get("/api/devices/device-001/").status_code == 200


def test_with_api_read_auth_the_health_endpoint_stays_open_for_probes(client, settings):
    settings.API_READ_AUTH = True
    assert client.get("/api/health/").status_code == 200
    assert client.post("/api/health/").status_code == 403


def test_the_vite_dev_server_may_call_the_api_cross_origin_with_cookies(client):
    response = client.options(
        "/api/devices/", headers={"Origin": DEV_SERVER, "Access-Control-Request-Method": "GET"}
    )
    assert response["Access-Control-Allow-Origin"] == DEV_SERVER
    assert response["Access-Control-Allow-Credentials"] == "true"


@pytest.mark.parametrize(
    ("origin", "path"), [("http://evil.example", "/api/devices/"), (DEV_SERVER, "/admin/login/")]
)
def test_no_other_origin_and_no_path_outside_the_api_gets_cors_headers(client, origin, path):
    response = client.get(path, headers={"Origin": origin})
    assert "Access-Control-Allow-Origin" not in response
