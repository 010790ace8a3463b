"""The REST API: thin views that validate parameters, call a selector, shape the answer."""
import logging
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.models import AlertRule
from alerts.selectors import alert_active_count, alert_get, alert_list, rule_of_device, rule_of_device_type, rules_overview
from alerts.services import alert_acknowledge, rule_delete, rule_put
from api import params, serializers
from api.caching import cached
from api.paging import next_link
from api.device_bodies import DeviceCreateSerializer, DeviceFieldsSerializer
from api.errors import DeviceIdTakenError, DeviceNotRegistered, UnknownDevice
from api.permissions import PublicReadOrStaff
from api.device_views import DEVICE_ID_PARAMETER
from api.schema import ErrorSerializer, error_responses, not_found
from common.timefmt import iso_utc
from devices.selectors import device_counts, device_exists, device_get, device_page
from devices.services import DeviceIdTaken, DeviceNotFound, device_decommission, device_register, device_update
from health.selectors import health_report
from telemetry.selectors import fleet_window_stats, ingest_rate, telemetry_list, telemetry_series, telemetry_window_stats

log = logging.getLogger(__name__)

# Averages over shorter windows read less than an hour of one device's readings and stay live.
CACHED_AVG_MIN_WINDOW = timedelta(hours=1)


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _require_device(device_id: str) -> None:
    if not device_exists(device_id=device_id):
        raise UnknownDevice(device_id)


LINK_HEADER = OpenApiParameter(
    "Link", str, OpenApiParameter.HEADER, response=[200],
    description='RFC 8288 `<url>; rel="next"` when more follow; absent on the last page.',
)


def _seconds(window: timedelta) -> int:
    """A window in the one form that names it in a cache key (`1h` and `60m` are the same)."""
    return int(window.total_seconds())


class HealthView(APIView):
    """Database, MQTT ingest and worker status; 503 when the database is down."""

    # Load balancers and monitors probe it without credentials, even with API_READ_AUTH.
    permission_classes = [PublicReadOrStaff]

    @extend_schema(
        tags=["health"],
        summary="Database, MQTT ingest and worker status",
        responses={
            200: serializers.HealthSerializer,
            503: OpenApiResponse(serializers.HealthSerializer, "The database is unreachable."),
            **error_responses(),
        },
    )
    def get(self, request):
        try:
            report = health_report()
        except DatabaseError as error:
            log.error("health check: database unreachable: %s", error)
            return Response(
                {
                    "status": "unhealthy",
                    "database": "disconnected",
                    "mqtt": "disconnected",
                    "worker": "stopped",
                    "timestamp": iso_utc(timezone.now()),
                },
                status=503,
            )
        return Response(serializers.HealthSerializer(report).data)


class DeviceListView(APIView):
    @extend_schema(
        tags=["devices"],
        summary="Devices with their newest reading, one page in device_id order",
        parameters=[params.DeviceListParams, LINK_HEADER],
        responses={
            200: serializers.DeviceSerializer(many=True),
            **error_responses(400, 503),
        },
    )
    def get(self, request):
        query = _validated(params.DeviceListParams, request)
        page = device_page(limit=query["limit"], after=query.get("cursor"),
                           **{name: query[name] for name in params.DEVICE_FILTERS if name in query})
        return Response(serializers.DeviceSerializer(page.rows, many=True).data,
                        headers=next_link(request, page.next_after))

    @extend_schema(
        tags=["devices"],
        summary="Register a device; the answer holds its API key, shown this once",
        request=DeviceCreateSerializer,
        responses={
            201: serializers.RegisteredDeviceSerializer,
            409: OpenApiResponse(ErrorSerializer, "A device with this id is registered already."),
            **error_responses(400, 503),
        },
    )
    def post(self, request):
        body = DeviceCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        try:
            registered = device_register(**fields)
        except DeviceIdTaken:
            raise DeviceIdTakenError(fields["device_id"]) from None
        row = {**device_get(device_id=registered.device.device_id), "api_key": registered.api_key}
        return Response(serializers.RegisteredDeviceSerializer(row).data, status=201)


class DeviceDetailView(APIView):
    @extend_schema(
        tags=["devices"],
        summary="One device",
        parameters=[
            OpenApiParameter("device_id", str, OpenApiParameter.PATH, description="The device's id.",
                             examples=[OpenApiExample("a device", value="device-001")]),
        ],
        responses={200: serializers.DeviceSerializer, **error_responses(404, 503)},
    )
    def get(self, request, device_id: str):
        device = device_get(device_id=device_id)
        if device is None:
            raise NotFound(f"unknown device {device_id!r}")
        return Response(serializers.DeviceSerializer(device).data)

    @extend_schema(
        tags=["devices"],
        summary="Change a device's name, type, location or metadata",
        parameters=[DEVICE_ID_PARAMETER],
        request=DeviceFieldsSerializer,
        responses={200: serializers.DeviceSerializer, **error_responses(400, 404, 503)},
    )
    def patch(self, request, device_id: str):
        body = DeviceFieldsSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        try:
            device_update(device_id=device_id, **body.validated_data)
        except DeviceNotFound:
            raise DeviceNotRegistered(device_id) from None
        return Response(serializers.DeviceSerializer(device_get(device_id=device_id)).data)

    @extend_schema(
        tags=["devices"],
        summary="Decommission a device: hidden, its readings refused, its history kept unless purge",
        parameters=[DEVICE_ID_PARAMETER, params.DeviceDeleteParams],
        request=None,
        responses={204: None, **error_responses(400, 404, 503)},
    )
    def delete(self, request, device_id: str):
        query = _validated(params.DeviceDeleteParams, request)
        try:
            device_decommission(device_id=device_id, purge=query["purge"])
        except DeviceNotFound:
            raise DeviceNotRegistered(device_id) from None
        return Response(status=204)


class TelemetryListView(APIView):
    @extend_schema(
        tags=["telemetry"],
        summary="A device's readings, newest first",
        parameters=[params.TelemetryParams],
        responses={200: serializers.TelemetrySerializer(many=True), **error_responses(400, 404, 503)},
    )
    def get(self, request):
        query = _validated(params.TelemetryParams, request)
        _require_device(query["deviceId"])
        readings = telemetry_list(
            device_id=query["deviceId"], limit=query["limit"], since=query.get("since"), until=query.get("until")
        )
        return Response(serializers.TelemetrySerializer(readings, many=True).data)


class WindowStatsView(APIView):
    @extend_schema(
        tags=["stats"],
        summary="A device's averages over a window",
        parameters=[params.StatsParams],
        responses={200: serializers.WindowStatsSerializer, **error_responses(400, 404, 503)},
    )
    def get(self, request):
        query = _validated(params.StatsParams, request)
        _require_device(query["deviceId"])

        def compute() -> dict:
            return telemetry_window_stats(device_id=query["deviceId"], window=query["window"])

        if query["window"] >= CACHED_AVG_MIN_WINDOW:
            stats = cached("stats/avg", {"deviceId": query["deviceId"], "window": _seconds(query["window"])}, compute)
        else:
            stats = compute()
        body = {"device_id": query["deviceId"], "window": request.query_params["window"], **stats}
        return Response(serializers.WindowStatsSerializer(body).data)


class SeriesView(APIView):
    """A device's readings over a window, averaged into chart-sized buckets."""

    @extend_schema(
        tags=["telemetry"],
        summary="A device's readings over a window, averaged into chart-sized buckets",
        parameters=[params.SeriesParams],
        responses={200: serializers.SeriesSerializer, **error_responses(400, 404, 503)},
    )
    def get(self, request):
        query = _validated(params.SeriesParams, request)
        _require_device(query["deviceId"])

        def compute() -> dict:
            # Stored serialised: turning hundreds of points into JSON types is most of a hit's cost.
            series = telemetry_series(device_id=query["deviceId"], window=query["window"], points=query["points"])
            points = serializers.SeriesPointSerializer(series["points"], many=True).data
            return {"bucket_seconds": series["bucket_seconds"], "points": list(points)}

        key = {"deviceId": query["deviceId"], "window": _seconds(query["window"]), "points": query["points"]}
        series = cached("telemetry/series", key, compute)
        # The same fields and order as SeriesSerializer (the documented shape), points already serialised.
        return Response({"device_id": query["deviceId"], "window": request.query_params["window"], **series})


class FleetStatsView(APIView):
    """The devices' averages over a window, one page in device_id order."""

    @extend_schema(
        tags=["stats"],
        summary="The devices' averages over a window, one page in device_id order",
        parameters=[params.FleetStatsParams, LINK_HEADER],
        responses={200: serializers.DeviceWindowStatsSerializer(many=True),
                   **error_responses(400, 503)},
    )
    def get(self, request):
        query = _validated(params.FleetStatsParams, request)

        filters = {name: query[name] for name in params.DEVICE_FILTERS if name in query}

        def compute() -> dict:
            page = fleet_window_stats(window=query["window"], limit=query["limit"], after=query.get("cursor"),
                                      **filters)
            return {"rows": page.rows, "next_after": page.next_after}

        key = {"window": _seconds(query["window"]), "limit": query["limit"], **filters}
        if "cursor" in query:
            key["after"] = query["cursor"]
        page = cached("stats/fleet", key, compute)
        return Response(serializers.DeviceWindowStatsSerializer(page["rows"], many=True).data,
                        headers=next_link(request, page["next_after"]))


class IngestRateView(APIView):
    """The fleet's stored readings per minute over the last hour, for a sparkline."""

    @extend_schema(
        tags=["stats"],
        summary="Readings stored per minute over the last 60 minutes, oldest first, 0 where none",
        responses={200: serializers.IngestRateSerializer(many=True), **error_responses(503)},
    )
    def get(self, request):
        return Response(serializers.IngestRateSerializer(ingest_rate(), many=True).data)


class FleetSummaryView(APIView):
    """Fleet totals without listing devices."""

    @extend_schema(
        tags=["stats"],
        summary="How many devices there are, ONLINE and OFFLINE, and the ACTIVE alerts",
        responses={200: serializers.FleetSummarySerializer, **error_responses(503)},
    )
    def get(self, request):
        body = {**device_counts(), "alerts_active": alert_active_count()}
        return Response(serializers.FleetSummarySerializer(body).data)


def _viewer(user):
    """The signed-in user as the config shows them, or None for an anonymous request."""
    if user is None or not user.is_authenticated:  # DRF gives None without a login here
        return None
    return {"username": user.get_username(), "is_staff": user.is_staff}


class ConfigView(APIView):
    """The alert thresholds in force, and who is signed in, for clients that draw them."""

    @extend_schema(
        tags=["config"],
        summary="The alert thresholds in force, and who is signed in",
        responses={200: serializers.ConfigSerializer, **error_responses()},
    )
    def get(self, request):
        body = {
            "high_temp_threshold": settings.HIGH_TEMP_THRESHOLD,
            "offline_after_seconds": settings.OFFLINE_AFTER_SECONDS,
            # The dashboard shows staff-only forms from this; the API still checks every write.
            "user": _viewer(request.user),
        }
        return Response(serializers.ConfigSerializer(body).data)


class AlertListView(APIView):
    @extend_schema(
        tags=["alerts"],
        summary="Alerts, newest first",
        parameters=[params.AlertParams],
        responses={200: serializers.AlertSerializer(many=True), **error_responses(400, 503)},
    )
    def get(self, request):
        query = _validated(params.AlertParams, request)
        alerts = alert_list(
            limit=query["limit"], device_id=query.get("deviceId"), alert_type=query.get("alert_type"),
            status=query.get("status"), acknowledged=query.get("acknowledged"), severity=query.get("severity"),
        )
        return Response(serializers.AlertSerializer(alerts, many=True).data)


class AlertAcknowledgeView(APIView):
    """A staff user takes note of an alert; the first acknowledgement stays."""

    @extend_schema(
        tags=["alerts"],
        summary="Acknowledge an alert (staff); again changes nothing",
        parameters=[OpenApiParameter("alert_id", int, OpenApiParameter.PATH, description="The alert's id.")],
        request=None,
        responses={200: serializers.AlertSerializer, **error_responses(), 404: not_found("alert")},
    )
    def post(self, request, alert_id: str):
        # Matched as text so that a malformed id is this API's JSON 404, not Django's HTML one.
        number = int(alert_id) if alert_id.isascii() and alert_id.isdigit() and len(alert_id) <= 18 else None
        if number is None or not alert_acknowledge(alert_id=number, user=request.user):
            raise NotFound(f"unknown alert {alert_id!r}")
        return Response(serializers.AlertSerializer(alert_get(alert_id=number)).data)


def _rule_values(request) -> dict:
    serializer = serializers.RuleValuesSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class RulesView(APIView):
    """The defaults and every rule of a device type or a device."""

    @extend_schema(tags=["rules"], summary="The alert rules: defaults, device types, devices",
                   responses={200: serializers.RulesSerializer, **error_responses()})
    def get(self, request):
        return Response(serializers.RulesSerializer(rules_overview()).data)


_DEVICE_TYPE_MAX_LENGTH = AlertRule._meta.get_field("device_type").max_length


def _checked_device_type(device_type: str) -> str:
    if len(device_type) > _DEVICE_TYPE_MAX_LENGTH:
        raise ValidationError({"device_type": f"at most {_DEVICE_TYPE_MAX_LENGTH} characters"})
    return device_type


class DeviceTypeRuleView(APIView):
    """The rule of one device type: read, replace (staff), remove (staff)."""

    @extend_schema(tags=["rules"], summary="A device type's rule and the values in force for it",
                   responses={200: serializers.DeviceTypeRuleSerializer, **error_responses(400)})
    def get(self, request, device_type: str):
        return Response(serializers.DeviceTypeRuleSerializer(
            rule_of_device_type(device_type=_checked_device_type(device_type))).data)

    @extend_schema(tags=["rules"], summary="Replace a device type's rule (staff); null or absent inherits",
                   request=serializers.RuleValuesSerializer,
                   responses={200: serializers.DeviceTypeRuleSerializer, **error_responses(400)})
    def put(self, request, device_type: str):
        device_type = _checked_device_type(device_type)
        rule_put(values=_rule_values(request), device_type=device_type)
        return Response(serializers.DeviceTypeRuleSerializer(rule_of_device_type(device_type=device_type)).data)

    @extend_schema(tags=["rules"], summary="Remove a device type's rule (staff)", request=None,
                   responses={204: None, **error_responses(400)})
    def delete(self, request, device_type: str):
        rule_delete(device_type=_checked_device_type(device_type))
        return Response(status=204)


class DeviceRuleView(APIView):
    """The rule of one device: read, replace (staff), remove (staff)."""

    def _device(self, device_id: str):
        device = device_get(device_id=device_id)
        if device is None:
            raise NotFound(f"unknown device {device_id!r}")
        return device

    @extend_schema(tags=["rules"], summary="A device's own rule and the values in force for it",
                   responses={200: serializers.DeviceRuleSerializer, **error_responses(404)})
    def get(self, request, device_id: str):
        device = self._device(device_id)
        return Response(serializers.DeviceRuleSerializer(
            rule_of_device(device_id=device_id, device_type=device["device_type"])).data)

    @extend_schema(tags=["rules"], summary="Replace a device's own rule (staff); null or absent inherits",
                   request=serializers.RuleValuesSerializer,
                   responses={200: serializers.DeviceRuleSerializer, **error_responses(400, 404)})
    def put(self, request, device_id: str):
        device = self._device(device_id)
        rule_put(values=_rule_values(request), device_id=device_id)
        return Response(serializers.DeviceRuleSerializer(
            rule_of_device(device_id=device_id, device_type=device["device_type"])).data)

    @extend_schema(tags=["rules"], summary="Remove a device's own rule (staff)", request=None,
                   responses={204: None, **error_responses(404)})
    def delete(self, request, device_id: str):
        self._device(device_id)
        rule_delete(device_id=device_id)
        return Response(status=204)
