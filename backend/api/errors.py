"""One error shape for the whole API: `{"error": "...", "field": "..."}`."""
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


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
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    field, message = _first_message(exc.detail if isinstance(exc, exceptions.APIException) else response.data)
    field = getattr(exc, "field", field)
    body = {"error": message}
    if field:
        body["field"] = field
    return Response(body, status=response.status_code, headers=_kept_headers(response))


def _kept_headers(response) -> dict:
    return {name: value for name, value in response.items() if name in ("WWW-Authenticate", "Retry-After", "Allow")}
