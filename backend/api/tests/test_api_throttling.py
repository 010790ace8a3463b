"""DRF throttles: a client over its rate gets 429 with the error shape; other clients are unaffected."""
import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

pytestmark = pytest.mark.django_db

DASHBOARD_REQUESTS_PER_POLL = 8  # devices, device, telemetry series, stats, fleet, alerts, health, config
POLLS_PER_MINUTE = 60 / 3


@pytest.fixture
def low_rates(monkeypatch):
    """Rates small enough to exceed in a test, with empty throttle history before and after."""
    # DRF's throttles read their rates once, at import; patch the class attribute they use.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "5/min", "user": "8/min"})
    cache.clear()
    yield
    cache.clear()


def test_a_burst_beyond_the_anonymous_rate_gets_429_with_the_error_shape(client, low_rates):
    statuses = [client.get("/api/devices/").status_code for _ in range(5)]
    assert statuses == [200] * 5

    response = client.get("/api/devices/")
    assert response.status_code == 429
    body = response.json()
    assert set(body) == {"error"} and "throttled" in body["error"]
    assert 0 < int(response["Retry-After"]) <= 60


def test_a_throttled_client_does_not_starve_another_address(client, low_rates):
    for _ in range(6):
        client.get("/api/config/", REMOTE_ADDR="10.0.0.1")
    assert client.get("/api/config/", REMOTE_ADDR="10.0.0.1").status_code == 429
    assert client.get("/api/config/", REMOTE_ADDR="10.0.0.2").status_code == 200


def test_a_forged_x_forwarded_for_does_not_buy_a_fresh_bucket(client, low_rates):
    statuses = [
        client.get("/api/config/", REMOTE_ADDR="10.0.0.3", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code
        for n in range(6)
    ]
    assert statuses[-1] == 429


def test_signed_in_users_have_their_own_bucket_at_the_user_rate(client, low_rates, django_user_model):
    for _ in range(6):
        client.get("/api/config/")
    assert client.get("/api/config/").status_code == 429

    client.force_login(django_user_model.objects.create_user("viewer"))
    statuses = [client.get("/api/config/").status_code for _ in range(9)]
    assert statuses == [200] * 8 + [429]


def test_the_default_rates_leave_room_for_many_dashboard_tabs_behind_one_address():
    per_tab_per_minute = DASHBOARD_REQUESTS_PER_POLL * POLLS_PER_MINUTE
    for scope in ("anon", "user"):
        requests, seconds = AnonRateThrottle().parse_rate(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope])
        assert requests * 60 / seconds >= 10 * per_tab_per_minute, scope
