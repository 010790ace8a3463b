"""One error shape for the whole API: `{"error": "...", "field": "..."}`."""
import logging

from django.db import OperationalError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

log = logging.getLogger(__name__)

# PostgreSQL's SQLSTATE for a statement cancelled, by statement_timeout or by an operator.
QUERY_CANCELED = "57014"
STATEMENT_TIMEOUT_ERROR = "the database took too long to answer; try again shortly, or ask for a shorter window"


class UnknownDevice(exceptions.APIException):
    """A query names a device that does not exist."""

    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "unknown device"

    def __init__(self, device_id: str, field: str | None = "deviceId") -> None:
        super().__init__(f"unknown device {device_id!r}")
        self.field = field


def _first_message(detail) -> tuple[str | None, str]:
    """The first (field, message) of a DRF error detail, however nested."""
    if isinstance(detail, dict):
        field, inner = next(iter(detail.items()))
        _, message = _first_message(inner)
        return (None if field in ("non_field_errors", "detail") else field), message
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else (None, "invalid request")
    return None, str(detail)


def exception_handler(exc, context):
    """DRF's handler, with every error body reshaped to the contract's form."""
    if _cancelled_query(exc):
        request = context["request"]
        log.warning("query cancelled (statement timeout): %s %s", request.method, request.get_full_path())
        return Response({"error": STATEMENT_TIMEOUT_ERROR}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    field, message = _first_message(exc.detail if isinstance(exc, exceptions.APIException) else response.data)
    field = getattr(exc, "field", field)
    body = {"error": message}
    if field:
        body["field"] = field
    return Response(body, status=response.status_code, headers=_kept_headers(response))


def _cancelled_query(exc) -> bool:
    """Whether `exc` is PostgreSQL cancelling a statement (the web's statement_timeout)."""
    return isinstance(exc, OperationalError) and getattr(exc.__cause__, "sqlstate", None) == QUERY_CANCELED


def _kept_headers(response) -> dict:
    return {name: value for name, value in response.items() if name in ("WWW-Authenticate", "Retry-After", "Allow")}


class DeviceNotRegistered(exceptions.NotFound):
    """/api/devices/{id}/... names no registered device (or a decommissioned one)."""

    def __init__(self, device_id: str) -> None:
        super().__init__(f"unknown device {device_id!r}")


class DeviceIdTakenError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "device id taken"

    def __init__(self, device_id: str) -> None:
        super().__init__(f"device {device_id!r} is registered already")
        self.field = "device_id"


class DeviceKeyInvalid(exceptions.APIException):
    """HTTP ingestion without a device key, or with one that is nobody's. (Not AuthenticationFailed,
    which DRF turns into 403 for a view without authentication classes.)"""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "X-API-Key is not a valid device key"
    # DRF's handler sends it as WWW-Authenticate, which a 401 must carry.
    auth_header = 'ApiKey header="X-API-Key"'


class DeviceKeyForbidden(exceptions.APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "this key belongs to another device"
