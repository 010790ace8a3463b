"""Readings out of the database as CSV or NDJSON, streamed in keyset chunks.

Each chunk is its own short query, so an export of any length holds no cursor, no
snapshot and no transaction open between chunks, and no single statement comes near
the web's statement timeout (config/database.py). Memory stays at one chunk.
"""
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import orjson
from django.http import StreamingHttpResponse

from common.timefmt import iso_utc
from devices.models import Device
from telemetry.models import Telemetry

CHUNK_ROWS = 5000
FIELDS = ("device_id", "ts", "temperature", "humidity", "battery")
FORMATS = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}

Row = tuple[str, datetime, float | None, float | None, float | None]


def device_rows(device_id: str, *, since: datetime | None = None, until: datetime | None = None,
                chunk_rows: int = CHUNK_ROWS) -> Iterator[Row]:
    """One device's readings oldest first, walking the unique (device, ts) index chunk by chunk."""
    readings = Telemetry.objects.filter(device_id=device_id)
    if until is not None:
        readings = readings.filter(ts__lte=until)
    after, inclusive = since, True
    while True:
        chunk = readings
        if after is not None:
            chunk = chunk.filter(ts__gte=after) if inclusive else chunk.filter(ts__gt=after)
        rows = list(chunk.order_by("ts").values_list(*FIELDS)[:chunk_rows])
        yield from rows
        if len(rows) < chunk_rows:
            return
        # ts is unique per device, so the last one seen is an exact resume point.
        after, inclusive = rows[-1][1], False


def fleet_rows(device_ids: Iterable[str] | None = None, *, since: datetime | None = None,
               until: datetime | None = None, chunk_rows: int = CHUNK_ROWS) -> Iterator[Row]:
    """Several devices' readings (every device when None): device by device, each oldest first."""
    # By device, not one global ts order: only (device, ts) is indexed, and an index on
    # ts alone would cost the ingest a write per reading for the sake of exports.
    ids = Device.objects.order_by("device_id").values_list("device_id", flat=True)
    if device_ids is not None:
        ids = ids.filter(device_id__in=list(device_ids))
    for device_id in list(ids):
        yield from device_rows(device_id, since=since, until=until, chunk_rows=chunk_rows)


def _number(value: float | None) -> str:
    return "" if value is None else repr(value)


def _iso(ts: datetime) -> str:
    """common.timefmt.iso_utc, without its conversion when the value is in UTC already (it is, from the database)."""
    if ts.tzinfo is not UTC:
        return iso_utc(ts)
    return ts.isoformat(timespec="milliseconds")[:-6] + "Z"


def _csv_field(text: str) -> str:
    """A CSV field, quoted only when it must be (a valid device id never needs it)."""
    if any(char in text for char in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_chunks(rows: Iterable[Row], chunk_rows: int = CHUNK_ROWS) -> Iterator[bytes]:
    """A header line `device_id,ts,temperature,humidity,battery`, then the rows, as UTF-8 chunks."""
    # Lines are joined by hand: csv.writer costs a third of the export's time, and only
    # the device id could ever need quoting.
    yield (",".join(FIELDS) + "\n").encode()
    lines: list[str] = []
    fields: dict[str, str] = {}
    for device_id, ts, temperature, humidity, battery in rows:
        field = fields.get(device_id)
        if field is None:
            field = fields[device_id] = _csv_field(device_id)
            if len(fields) > 1024:
                fields.clear()
        lines.append(f"{field},{_iso(ts)},{_number(temperature)},{_number(humidity)},{_number(battery)}\n")
        if len(lines) == chunk_rows:
            yield "".join(lines).encode()
            lines = []
    if lines:
        yield "".join(lines).encode()


def ndjson_chunks(rows: Iterable[Row], chunk_rows: int = CHUNK_ROWS) -> Iterator[bytes]:
    """One JSON object a line, with the CSV's fields, as chunks."""
    lines: list[bytes] = []
    for device_id, ts, temperature, humidity, battery in rows:
        lines.append(orjson.dumps({"device_id": device_id, "ts": _iso(ts), "temperature": temperature,
                                   "humidity": humidity, "battery": battery}))
        if len(lines) == chunk_rows:
            yield b"\n".join(lines) + b"\n"
            lines = []
    if lines:
        yield b"\n".join(lines) + b"\n"


def export_chunks(rows: Iterable[Row], export_format: str) -> Iterator[bytes]:
    """The rows in `export_format` (a key of FORMATS)."""
    if export_format == "csv":
        return csv_chunks(rows)
    if export_format == "ndjson":
        return ndjson_chunks(rows)
    raise ValueError(f"unknown export format {export_format!r}")


def export_filename(device_id: str | None, export_format: str) -> str:
    """`telemetry-<device>.csv`, or `telemetry.csv` for the fleet."""
    return f"telemetry-{device_id}.{export_format}" if device_id else f"telemetry.{export_format}"


def export_response(rows: Iterable[Row], export_format: str, filename: str):
    """A StreamingHttpResponse of the rows as an attachment named `filename`."""
    response = StreamingHttpResponse(export_chunks(rows, export_format), content_type=FORMATS[export_format])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Tells nginx not to buffer the whole export before passing it on.
    response["X-Accel-Buffering"] = "no"
    return response
