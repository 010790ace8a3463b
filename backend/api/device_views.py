"""Device writes that are not list or detail methods: key rotation and HTTP ingestion."""
import logging

from django.db import DatabaseError, connection
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers
from api.errors import DeviceKeyForbidden, DeviceKeyInvalid, DeviceNotRegistered
from api.ingestion import IngestBodyInvalid, ingest_http_body
from api.schema import ErrorSerializer, error_responses
from api.throttles import IngestAddressThrottle, IngestDeviceThrottle, presented_key_hash
from devices.keys import key_matches
from devices.selectors import device_for_key, device_id_holding_key
from devices.services import DeviceNotFound, device_rotate_key

log = logging.getLogger(__name__)

DEVICE_ID_PARAMETER = OpenApiParameter(
    "device_id", str, OpenApiParameter.PATH, description="The device's id.",
    examples=[OpenApiExample("a device", value="device-001")],
)


class DeviceRotateKeyView(APIView):
    """Give a device a new API key; the old one stops working at once."""

    @extend_schema(
        tags=["devices"],
        summary="Give a device a new API key",
        parameters=[DEVICE_ID_PARAMETER],
        request=None,
        responses={200: serializers.RotatedKeySerializer, **error_responses(404, 503)},
    )
    def post(self, request, device_id: str):
        try:
            key = device_rotate_key(device_id=device_id)
        except DeviceNotFound:
            raise DeviceNotRegistered(device_id) from None
        return Response(serializers.RotatedKeySerializer({"device_id": device_id, "api_key": key}).data)


_INGEST_ERRORS = {
    401: OpenApiResponse(ErrorSerializer, "X-API-Key is missing or is not a device's key.",
                         examples=[OpenApiExample("no key", {"error": "X-API-Key is missing"})]),
    403: OpenApiResponse(ErrorSerializer, "X-API-Key is another device's key.",
                         examples=[OpenApiExample("other device", {"error": "this key belongs to another device"})]),
    503: OpenApiResponse(ErrorSerializer, "The database could not store the readings (locked, down, or a "
                         "statement timeout); nothing was stored, retry after Retry-After seconds.",
                         examples=[OpenApiExample("retry", {"error": "the readings could not be stored; retry "
                                                                     "shortly"})]),
    413: OpenApiResponse(ErrorSerializer, "The body is larger than MAX_REQUEST_BODY_BYTES.",
                         examples=[OpenApiExample("too large", {"error": "request body larger than 1048576 bytes"})]),
}


class DeviceTelemetryView(APIView):
    """Readings of one device over HTTP, authenticated by its API key alone."""

    # Key authentication only: no session (so no CSRF), no token, no staff user.
    authentication_classes = []
    permission_classes = []
    # The address first: a flood of made-up keys is cut off by where it comes from.
    throttle_classes = [IngestAddressThrottle, IngestDeviceThrottle]

    @extend_schema(
        tags=["telemetry"],
        summary="Store a device's readings sent over HTTP",
        description="One reading (an object, as an MQTT payload) or an array of up to 1,000. Each is validated "
        "by the MQTT payload rules and stored by the ingest's batch writer, idempotent on (device, ts).",
        parameters=[
            DEVICE_ID_PARAMETER,
            OpenApiParameter("X-API-Key", str, OpenApiParameter.HEADER, required=True,
                             description="The device's API key."),
        ],
        request={"application/json": {
            "oneOf": [
                {"type": "object", "additionalProperties": True},
                {"type": "array", "maxItems": 1000, "items": {"type": "object", "additionalProperties": True}},
            ],
            "example": {"ts": 1728481425000, "temperature": 26.3, "humidity": 47.9},
        }},
        responses={
            202: serializers.IngestResultSerializer,
            **error_responses(400),
            **_INGEST_ERRORS,
        },
    )
    def post(self, request, device_id: str):
        received_at = timezone.now()
        try:
            self._authenticate(request, device_id)
            result = ingest_http_body(device_id=device_id, body=request.body, received_at=received_at)
        except IngestBodyInvalid as error:
            raise exceptions.ParseError(str(error)) from None
        except DatabaseError as error:
            # Nothing was committed, and a retry is idempotent on (device, ts): tell the device to retry.
            log.warning("HTTP readings of %s not stored, the database refused them: %s", device_id, error)
            connection.close()
            return Response({"error": "the readings could not be stored; retry shortly"},
                            status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "1"})
        return Response(serializers.IngestResultSerializer(result).data, status=status.HTTP_202_ACCEPTED)

    @staticmethod
    def _authenticate(request, device_id: str) -> None:
        presented = presented_key_hash(request)
        if presented is None:
            raise DeviceKeyInvalid("X-API-Key is missing")
        device = device_for_key(device_id=device_id)
        if device is not None and key_matches(presented, device.key_hash):
            return
        # A keyed hash of a random key: looking it up leaks nothing about any key.
        if device_id_holding_key(key_hash=presented) is not None:
            raise DeviceKeyForbidden()
        raise DeviceKeyInvalid("X-API-Key is not a valid device key")
