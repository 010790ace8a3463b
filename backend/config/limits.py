"""Refuse oversized requests before anything reads them, with the API's error shape.

Django reads a request body only as far as its Content-Length (a body without one
reads as empty), so refusing a large Content-Length up front bounds the memory any
request can take. The query string is bounded the same way, and parsed here once so
that too many parameters is a clear 400 instead of an exception deep in a view.
"""
from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import JsonResponse


def _refuse(status: int, error: str) -> JsonResponse:
    return JsonResponse({"error": error}, status=status)


class RequestLimitsMiddleware:
    """413 for a body over MAX_REQUEST_BODY_BYTES, 414 for a query string over MAX_QUERY_STRING_BYTES."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = self._refusal(request)
        return refusal if refusal is not None else self.get_response(request)

    def _refusal(self, request) -> JsonResponse | None:
        query = request.META.get("QUERY_STRING", "")
        if len(query) > settings.MAX_QUERY_STRING_BYTES:
            return _refuse(414, f"query string longer than {settings.MAX_QUERY_STRING_BYTES} bytes")
        try:
            request.GET  # noqa: B018 - parsed here so a flood of parameters is refused cleanly
        except TooManyFieldsSent:
            return _refuse(400, f"more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} query parameters")
        raw_length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw_length)
        except ValueError:
            return _refuse(400, "Content-Length is not a number")
        if length < 0:
            return _refuse(400, "Content-Length is negative")
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return _refuse(413, f"request body larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes")
        return None
