"""Data access: readings streamed out as CSV or NDJSON, and the latest rejected messages."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from api import data_serializers
from api.errors import UnknownDevice
from api.schema import error_responses
from devices.selectors import device_exists
from telemetry.export import FORMATS, device_rows, export_filename, export_response, fleet_rows
from telemetry.rejection_selectors import rejection_list


class TelemetryExportView(APIView):
    """Readings oldest first, streamed: one device's, or the fleet's for staff."""

    def perform_content_negotiation(self, request, force=False):
        # `format` is this endpoint's own parameter, not DRF's renderer override; errors stay JSON.
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    @extend_schema(
        tags=["telemetry"],
        summary="Readings oldest first as a CSV or NDJSON download",
        description="The rows `/api/telemetry/` gives for the same `deviceId`, `since` and `until`, without a "
        "limit, oldest first, streamed. CSV starts with the header `device_id,ts,temperature,humidity,battery`; "
        "NDJSON has one object with those fields a line. Staff may leave out `deviceId` to export every device, "
        "device by device.",
        parameters=[data_serializers.ExportParams],
        responses={
            (200, FORMATS["csv"]): OpenApiResponse(OpenApiTypes.STR, "CSV, as an attachment."),
            (200, FORMATS["ndjson"]): OpenApiResponse(OpenApiTypes.STR, "NDJSON, as an attachment."),
            **error_responses(400, 404, 503),
        },
    )
    def get(self, request):
        serializer = data_serializers.ExportParams(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        query = serializer.validated_data
        device_id = query.get("deviceId")
        if device_id is None:
            if not (request.user and request.user.is_staff):
                raise ValidationError({"deviceId": "deviceId is required (only staff may export every device)"})
            rows = fleet_rows(since=query.get("since"), until=query.get("until"))
        else:
            if not device_exists(device_id=device_id):
                raise UnknownDevice(device_id)
            rows = device_rows(device_id, since=query.get("since"), until=query.get("until"))
        return export_response(rows, query["format"], export_filename(device_id, query["format"]))


class RejectionListView(APIView):
    @extend_schema(
        tags=["telemetry"],
        summary="The latest stored rejected messages, newest first",
        description="Only a sample of the rejections is stored (docs/reliability.md, \"Rejected messages\").",
        parameters=[data_serializers.RejectionParams],
        responses={200: data_serializers.RejectionSerializer(many=True), **error_responses(400, 503)},
    )
    def get(self, request):
        serializer = data_serializers.RejectionParams(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        query = serializer.validated_data
        rejections = rejection_list(limit=query["limit"], device_id=query.get("deviceId"), reason=query.get("reason"))
        return Response(data_serializers.RejectionSerializer(rejections, many=True).data)
