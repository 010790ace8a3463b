"""HTTP ingestion: a body of readings, validated as MQTT payloads and stored by the ingest's batch writer."""
from datetime import datetime

import orjson

from api.parsers import MAX_JSON_DEPTH, json_depth
from telemetry.payload import Reading, parse_message
from telemetry.services import RejectedInput, telemetry_store_batch

# One request's readings; with the 1 MiB body limit (MAX_REQUEST_BODY_BYTES) that leaves
# 1,048 bytes a reading, ten times a typical one (docs/api.md, "HTTP ingestion").
MAX_READINGS_PER_REQUEST = 1000


class IngestBodyInvalid(Exception):
    """The body as a whole is not a reading nor an array of at most MAX_READINGS_PER_REQUEST."""


def _elements(body: bytes) -> list:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise IngestBodyInvalid(f"JSON parse error - {error}") from None
    if json_depth(document) > MAX_JSON_DEPTH:
        raise IngestBodyInvalid(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(document, dict):
        return [document]
    if not isinstance(document, list):
        raise IngestBodyInvalid("the body must be a reading (a JSON object) or an array of readings")
    if len(document) > MAX_READINGS_PER_REQUEST:
        raise IngestBodyInvalid(f"more than {MAX_READINGS_PER_REQUEST} readings in one request")
    return document


def ingest_http_body(*, device_id: str, body: bytes, received_at: datetime) -> dict:
    """Validate and store a body's readings for `device_id`; the counts and each rejected reading's reason."""
    topic = f"devices/{device_id}/telemetry"
    readings: list[tuple[Reading, datetime]] = []
    reading_indexes: list[int] = []
    rejections: list[RejectedInput] = []
    errors: list[dict] = []
    for index, element in enumerate(_elements(body)):
        # Each element's own bytes, as a device would have published them over MQTT.
        payload = orjson.dumps(element)
        outcome = parse_message(topic, payload, received_at)
        if isinstance(outcome, Reading):
            readings.append((outcome, received_at))
            reading_indexes.append(index)
        else:
            rejections.append(RejectedInput(topic, payload, outcome.reason, received_at))
            errors.append({"index": index, "reason": outcome.reason})
    result = telemetry_store_batch(readings=readings, rejections=rejections, known_device_ids=set())
    refused = result.refused_devices.get(device_id)
    if refused is not None:
        errors.extend({"index": index, "reason": refused} for index in reading_indexes)
        errors.sort(key=lambda error: error["index"])
    return {
        "stored": result.stored,
        "duplicates": result.duplicates,
        "rejected": len(errors),
        "errors": errors,
    }
