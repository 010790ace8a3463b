"""Keyset paging of device-ordered lists: the opaque cursor and the RFC 8288 `Link` header."""
import base64
import binascii

from django.http import QueryDict
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from devices.ids import is_device_id
from common.keyset import PAGE_MAX_LIMIT

# A version in front, so that a later cursor form can tell old cursors apart.
_CURSOR_PREFIX = "d1:"


def cursor_encode(after: str) -> str:
    """The opaque cursor of the page after device `after`."""
    return base64.urlsafe_b64encode((_CURSOR_PREFIX + after).encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> str | None:
    """The device id a cursor continues after, or None when it is not a cursor of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    after = text.removeprefix(_CURSOR_PREFIX)
    return after if text.startswith(_CURSOR_PREFIX) and is_device_id(after) else None


@extend_schema_field({"type": "string", "description": "The opaque cursor of a `Link: <...>; rel=\"next\"` header."})
class CursorField(serializers.CharField):
    """A cursor from a previous page's Link header, as the device id it continues after."""

    def to_internal_value(self, data):
        after = cursor_decode(super().to_internal_value(data))
        if after is None:
            raise serializers.ValidationError("not a cursor of this list")
        return after


class PageParams(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=PAGE_MAX_LIMIT, default=PAGE_MAX_LIMIT,
                                     help_text="Devices per page; without it, the first 1,000.")
    cursor = CursorField(required=False)


def next_link(request, next_after: str | None) -> dict[str, str]:
    """The `Link` header of the next page (the request's own query with a new cursor), or none."""
    if next_after is None:
        return {}
    query: QueryDict = request.query_params.copy()
    query["cursor"] = cursor_encode(next_after)
    url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return {"Link": f'<{url}>; rel="next"'}
