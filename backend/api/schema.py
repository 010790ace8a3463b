"""OpenAPI pieces shared by the views: the error body and the error responses each endpoint can give."""
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """Every error the API answers: `{"error": "...", "field": "..."}`."""

    error = serializers.CharField(help_text="What was wrong, for a person to read.")
    field = serializers.CharField(required=False, help_text="The query parameter at fault, when there is one.")


_ERRORS = {
    400: OpenApiResponse(
        ErrorSerializer,
        "A query parameter is missing or invalid.",
        examples=[OpenApiExample("bad parameter", {"error": "<reason>", "field": "<parameter>"})],
    ),
    403: OpenApiResponse(
        ErrorSerializer,
        "Credentials were sent but are invalid, or are missing where needed: reads with "
        "API_READ_AUTH on need a signed-in user, writes a staff user.",
        examples=[OpenApiExample("no credentials", {"error": "Authentication credentials were not provided."})],
    ),
    404: OpenApiResponse(
        ErrorSerializer,
        "The device is unknown.",
        examples=[OpenApiExample("unknown device", {"error": "unknown device 'x'", "field": "deviceId"})],
    ),
    429: OpenApiResponse(
        ErrorSerializer,
        "Too many requests from this client; the Retry-After header says when to try again.",
        examples=[OpenApiExample("throttled", {"error": "Request was throttled. Expected available in 12 seconds."})],
    ),
    414: OpenApiResponse(
        ErrorSerializer,
        "The query string is longer than MAX_QUERY_STRING_BYTES (config/limits.py): long or "
        "non-ASCII parameters, percent-encoded, can pass it.",
        examples=[OpenApiExample("too long", {"error": "query string longer than 4096 bytes"})],
    ),
    503: OpenApiResponse(
        ErrorSerializer,
        "On PostgreSQL: the query ran past the web's statement timeout (WEB_STATEMENT_TIMEOUT_SECONDS) and was cancelled.",
        examples=[OpenApiExample("statement timeout", {"error": "the database took too long to answer; try again "
                                                                "shortly, or ask for a shorter window"})],
    ),
}


def not_found(what: str) -> OpenApiResponse:
    """A 404 for an unknown `what` named in the path."""
    return OpenApiResponse(
        ErrorSerializer, f"The {what} is unknown.",
        examples=[OpenApiExample(f"unknown {what}", {"error": f"unknown {what} 12345"})],
    )


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The documented error responses for these status codes, plus 403, 414 and 429, which any request can get."""
    return {code: _ERRORS[code] for code in sorted({*codes, 403, 414, 429})}


def optional_query_parameters_may_be_empty(result, generator, request, public):
    """Schema hook: DRF reads an empty optional query parameter (`?status=`) as absent; say so."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
                    parameter["schema"].pop("minLength", None)
    return result
