"""GET /api/telemetry/export/: the list's rows, oldest first, streamed as CSV or NDJSON."""
import csv
import gzip
import io
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.http import StreamingHttpResponse

from devtools.factories import make_device, make_readings
from telemetry import export
from telemetry.models import Telemetry

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HEADER = ["device_id", "ts", "temperature", "humidity", "battery"]


def body_of(response) -> bytes:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content)


def csv_rows(response) -> list[dict]:
    text = body_of(response).decode()
    assert text.splitlines()[0] == ",".join(HEADER)
    return list(csv.DictReader(io.StringIO(text)))


def listed(client, query: str) -> list[dict]:
    """What /api/telemetry/ gives, oldest first."""
    return list(reversed(client.get(f"/api/telemetry/?{query}&limit=10000").json()))


def seed():
    device = make_device("device-001")
    readings = make_readings(device, 25, start=START)
    Telemetry.objects.filter(pk=readings[3].pk).update(temperature=None, battery=87.5)
    make_readings(make_device("device-002"), 4, start=START)
    return device


def as_listed(row: dict) -> dict:
    """An exported row in the list's terms (the list has an id and no battery)."""
    def number(text):
        return None if text in ("", None) else float(text)

    return {"device_id": row["device_id"], "ts": row["ts"], "temperature": number(row["temperature"]),
            "humidity": number(row["humidity"])}


@pytest.mark.parametrize("window", ["", "&since=2026-03-01T12:00:05Z&until=2026-03-01T12:00:17Z"])
def test_the_csv_parses_back_to_the_rows_of_the_list_oldest_first(client, window):
    seed()
    response = client.get(f"/api/telemetry/export/?deviceId=device-001{window}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="telemetry-device-001.csv"'
    rows = csv_rows(response)
    expected = [{key: value for key, value in row.items() if key != "id"}
                for row in listed(client, f"deviceId=device-001{window}")]
    assert [as_listed(row) for row in rows] == expected
    assert len(rows) == (25 if not window else 13)
    assert rows[3 if not window else 0]["battery"] == ("87.5" if not window else "")


def test_the_ndjson_gives_the_same_rows_with_battery(client):
    seed()
    response = client.get("/api/telemetry/export/?deviceId=device-001&format=ndjson")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Content-Disposition"] == 'attachment; filename="telemetry-device-001.ndjson"'
    lines = [orjson.loads(line) for line in body_of(response).splitlines()]
    assert [list(line) for line in lines] == [HEADER] * 25
    assert [{key: line[key] for key in HEADER[:4]} for line in lines] == [
        {key: value for key, value in row.items() if key != "id"} for row in listed(client, "deviceId=device-001")
    ]
    assert lines[3]["battery"] == 87.5 and lines[3]["temperature"] is None


def test_a_chunk_boundary_loses_and_repeats_nothing():
    device = make_device("device-001")
    make_readings(device, 23, start=START)
    rows = list(export.device_rows("device-001", chunk_rows=5))
    assert [row[1] for row in rows] == [START + timedelta(seconds=i) for i in range(23)]
    since = START + timedelta(seconds=10)
    assert [row[1] for row in export.device_rows("device-001", since=since, chunk_rows=5)] == [
        START + timedelta(seconds=i) for i in range(10, 23)
    ]
    assert len(list(export.device_rows("device-001", chunk_rows=23))) == 23


def test_each_chunk_is_its_own_query(django_assert_num_queries):
    make_readings(make_device("device-001"), 12, start=START)
    with django_assert_num_queries(3):  # 5 + 5 + 2 rows
        assert len(list(export.device_rows("device-001", chunk_rows=5))) == 12


def test_staff_may_export_the_whole_fleet_device_by_device(client, staff):
    seed()
    client.force_login(staff)
    response = client.get("/api/telemetry/export/?format=csv")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="telemetry.csv"'
    rows = csv_rows(response)
    assert [row["device_id"] for row in rows] == ["device-001"] * 25 + ["device-002"] * 4
    assert rows[25]["ts"] == "2026-03-01T12:00:00.000Z"


@pytest.mark.parametrize("who", ["anonymous", "viewer"])
def test_anyone_but_staff_must_name_the_device(client, viewer, who):
    if who == "viewer":
        client.force_login(viewer)
    response = client.get("/api/telemetry/export/")
    assert response.status_code == 400
    assert response.json()["field"] == "deviceId"
    assert "deviceId is required" in response.json()["error"]


@pytest.mark.parametrize(
    ("query", "field", "status"),
    [
        ("deviceId=device-001&format=xlsx", "format", 400),
        ("deviceId=device-001&format=json", "format", 400),
        ("deviceId=bad%20id", "deviceId", 400),
        ("deviceId=device-001&since=yesterday", "since", 400),
        ("deviceId=device-001&since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z", "since", 400),
        ("deviceId=nobody", "deviceId", 404),
    ],
)
def test_bad_parameters_are_errors_naming_the_parameter(client, query, field, status):
    seed()
    response = client.get(f"/api/telemetry/export/?{query}")
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["field"] == field


def test_an_unknown_format_is_named_in_the_error(client):
    seed()
    assert "'xlsx'" in client.get("/api/telemetry/export/?deviceId=device-001&format=xlsx").json()["error"]


def test_reads_closed_by_api_read_auth_close_the_export_too(client, settings):
    seed()
    settings.API_READ_AUTH = True
    assert client.get("/api/telemetry/export/?deviceId=device-001").status_code == 403


def test_gzip_compresses_the_stream_chunk_by_chunk(client):
    seed()
    response = client.get("/api/telemetry/export/?deviceId=device-001", HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    assert response.streaming  # GZipMiddleware kept it a stream instead of buffering it
    text = gzip.decompress(body_of(response)).decode()
    assert len(list(csv.DictReader(io.StringIO(text)))) == 25


def test_a_device_id_that_needs_quoting_is_quoted():
    # Ids are validated on the way in; a row written around the validators still parses back.
    rows = [('odd,"id"', START, 1.5, None, None), ("device-001", START, None, 2.0, 3.0)]
    text = b"".join(export.csv_chunks(rows, chunk_rows=1)).decode()
    assert list(csv.reader(io.StringIO(text))) == [
        HEADER, ['odd,"id"', "2026-03-01T12:00:00.000Z", "1.5", "", ""],
        ["device-001", "2026-03-01T12:00:00.000Z", "", "2.0", "3.0"],
    ]


def test_a_timestamp_in_another_zone_is_written_in_utc():
    from zoneinfo import ZoneInfo

    local = datetime(2026, 3, 1, 13, 0, 0, 123456, tzinfo=ZoneInfo("Europe/Paris"))
    text = b"".join(export.csv_chunks([("device-001", local, 1.0, 2.0, 3.0)])).decode()
    assert text.splitlines()[1] == "device-001,2026-03-01T12:00:00.123Z,1.0,2.0,3.0"
