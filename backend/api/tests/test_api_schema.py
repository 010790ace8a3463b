"""The OpenAPI schema: valid, served with its docs, and kept to by the API (schemathesis)."""
from datetime import timedelta

import pytest
import schemathesis
from django.core.cache import cache
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from alerts.models import Alert, AlertRule
from devtools.factories import make_alert, make_device, make_readings



@schemathesis.check
def negative_data_refused(ctx, response, case):
    """Whatever the schema calls invalid is refused: the API is at least as strict as its schema.

    A fuzzed query string past MAX_QUERY_STRING_BYTES is refused before any parameter is
    read, with 414 (documented for every endpoint): that is a refusal too.
    """
    if response.status_code == 414:
        return True
    return negative_data_rejection(ctx, response, case)


SCHEMA_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_refused,
]
EXPECTED_PATHS = {
    "/api/health/",
    "/api/devices/",
    "/api/devices/{device_id}/",
    "/api/devices/{device_id}/rotate-key/",
    "/api/devices/{device_id}/telemetry/",
    "/api/telemetry/",
    "/api/telemetry/series/",
    "/api/stats/avg/",
    "/api/stats/fleet/",
    "/api/stats/summary/",
    "/api/stats/ingest-rate/",
    "/api/config/",
    "/api/alerts/",
    "/api/telemetry/export/",
    "/api/rejections/",
    "/api/alerts/{alert_id}/acknowledge/",
    "/api/rules/",
    "/api/rules/device-types/{device_type}/",
    "/api/rules/devices/{device_id}/",
}


def seed() -> None:
    """A device with readings and every kind of alert, one without readings: both shapes of every answer."""
    device = make_device("device-001", name="boiler room", location="B1")
    make_readings(device, 50, step=timedelta(seconds=10))
    make_device("device-002", status="OFFLINE")
    make_alert(device, Alert.Type.HIGH_TEMP, payload={"temperature": 31.0, "threshold": 30.0})
    make_alert(device, Alert.Type.OFFLINE, payload={"last_seen": "2026-01-01T00:00:00.000Z"})
    make_alert(device, Alert.Type.ONLINE, payload={"offline_since": "2026-01-01T00:00:00.000Z"},
               status=Alert.Status.CLEARED)
    make_alert(device, Alert.Type.LOW_BATTERY, payload={
        "battery": 12.0, "threshold": 15.0, "hysteresis": 5.0, "source": "default", "ts": "2026-01-01T00:00:00.000Z"})
    make_alert(device, Alert.Type.ANOMALY, payload={
        "metric": "temperature", "value": 41.0, "z": 6.2, "mean": 24.0, "std": 2.7, "z_limit": 4.0,
        "source": "device_type", "ts": "2026-01-01T00:00:00.000Z"})
    AlertRule.objects.create(device_type="boiler", high_temp_threshold=45.0)
    AlertRule.objects.create(device=device, anomaly_z=5.0)


# The schema as the app serves it; the requests go to the same app over WSGI, in-process.
# (Loading it touches no database, so it can happen at collection.)
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture
def seeded_api(db):
    """Seeded data and empty throttle buckets for one operation's generated requests."""
    seed()
    cache.clear()
    # As Django's test client does: a request must not close the connection that holds
    # the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    cache.clear()


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error_or_a_response_outside_the_schema(case, seeded_api):
    # The WSGI transport does not undo GZipMiddleware's compression.
    case.call_and_validate(checks=SCHEMA_CHECKS, headers={"Accept-Encoding": "identity"})


def test_the_schema_is_valid_openapi_without_generator_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))


@pytest.mark.django_db
def test_the_schema_lists_every_endpoint_with_its_error_shape(client):
    document = client.get("/api/schema/?format=json").json()
    assert set(document["paths"]) == EXPECTED_PATHS
    error = document["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"error", "field"} and error["required"] == ["error"]
    telemetry = document["paths"]["/api/telemetry/"]["get"]
    assert {"200", "400", "404", "429"} <= set(telemetry["responses"])
    assert {p["name"] for p in telemetry["parameters"]} == {"deviceId", "limit", "since", "until"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/api/docs/redoc/"])
def test_the_docs_pages_are_served(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert b"/api/schema/" in response.content


@pytest.mark.django_db
def test_the_schema_is_closed_with_the_rest_of_the_reads(client, settings):
    settings.API_READ_AUTH = True
    assert client.get("/api/schema/").status_code == 403
