"""GET /api/rejections/: the latest stored rejected messages, newest first, with filters."""
from datetime import UTC, datetime, timedelta

import pytest

from telemetry.payload import Rejection, parse_message
from telemetry.services import RejectedInput, telemetry_store_batch

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def store_rejected(topic: str, payload: bytes, at: datetime) -> str:
    """Reject a message as the ingest does: parse_message, then telemetry_store_batch."""
    outcome = parse_message(topic, payload, at)
    assert isinstance(outcome, Rejection)
    telemetry_store_batch(readings=[], rejections=[RejectedInput(topic, payload, outcome.reason, at)],
                          known_device_ids=set())
    return outcome.reason


def test_a_malformed_message_is_listed_with_its_reason():
    from django.test import Client

    reason = store_rejected("devices/device-001/telemetry", b'{"temperature": 2', T0)
    [row] = Client().get("/api/rejections/").json()
    assert row == {
        "received_at": "2026-03-01T12:00:00.000Z",
        "topic": "devices/device-001/telemetry",
        "device_id": "device-001",
        "reason": reason,
        "payload": '{"temperature": 2',
    }
    assert reason.startswith("invalid JSON: ")


def test_newest_first_with_the_filters_and_the_limit(client):
    store_rejected("devices/device-001/telemetry", b"[1]", T0)
    store_rejected("devices/device-002/telemetry", b"{bad", T0 + timedelta(seconds=1))
    store_rejected("devices/device-001/telemetry", b"{worse", T0 + timedelta(seconds=2))
    store_rejected("sensors/x", b'{"temperature": 1}', T0 + timedelta(seconds=3))

    every = client.get("/api/rejections/").json()
    assert [row["received_at"][17:19] for row in every] == ["03", "02", "01", "00"]
    assert every[0]["device_id"] is None and every[0]["topic"] == "sensors/x"

    by_device = client.get("/api/rejections/?deviceId=device-001").json()
    assert [row["payload"] for row in by_device] == ["{worse", "[1]"]
    by_reason = client.get("/api/rejections/?reason=invalid JSON").json()
    assert [row["payload"] for row in by_reason] == ["{worse", "{bad"]
    exact = client.get("/api/rejections/?reason=payload is not a JSON object").json()
    assert [row["payload"] for row in exact] == ["[1]"]
    both = client.get("/api/rejections/?reason=invalid%20JSON&deviceId=device-002").json()
    assert [row["payload"] for row in both] == ["{bad"]
    assert client.get("/api/rejections/?reason=invalid").json() == []  # a kind, not a prefix
    assert len(client.get("/api/rejections/?limit=2").json()) == 2


def test_the_payload_is_cut_at_1000_characters(client):
    store_rejected("devices/device-001/telemetry", b"{" + b"x" * 3000, T0)
    [row] = client.get("/api/rejections/").json()
    assert len(row["payload"]) == 1000


def test_the_default_limit_is_50(client):
    for second in range(55):
        store_rejected(f"devices/d-{second}/telemetry", b"{bad", T0 + timedelta(seconds=second))
    assert len(client.get("/api/rejections/").json()) == 50


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=0", "limit"), ("limit=1001", "limit"), ("limit=many", "limit"), ("deviceId=bad%20id", "deviceId"),
     ("reason=" + "x" * 101, "reason")],
)
def test_bad_parameters_are_400s_naming_them(client, query, field):
    response = client.get(f"/api/rejections/?{query}")
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_reads_closed_by_api_read_auth_close_the_rejections_too(client, settings):
    settings.API_READ_AUTH = True
    assert client.get("/api/rejections/").status_code == 403
