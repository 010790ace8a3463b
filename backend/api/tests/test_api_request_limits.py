"""Oversized bodies, long query strings, floods of parameters and deep JSON get a clear refusal, never a 500."""
import pytest
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from api.parsers import MAX_JSON_DEPTH, json_depth

pytestmark = pytest.mark.django_db


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


class EchoDepthView(APIView):
    """A write endpoint with the API's default parser and error handling, as any future one gets."""

    permission_classes = [AllowAny]
    throttle_classes = []

    def post(self, request):
        return Response({"depth": json_depth(request.data)})


def post_json(body: bytes):
    request = APIRequestFactory().post("/api/echo/", data=body, content_type="application/json")
    return EchoDepthView.as_view()(request)


def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client.post("/api/devices/", data=b"x" * 1025, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"error": "request body larger than 1024 bytes"}


def test_a_claimed_ten_gigabyte_body_is_refused_on_its_content_length_alone(client):
    response = client.generic("POST", "/api/devices/", b"{}", content_type="application/json",
                              CONTENT_LENGTH=str(10 * 1024**3))
    assert response.status_code == 413


def test_a_body_at_the_limit_goes_on_to_the_usual_checks(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client.post("/api/devices/", data=b"x" * 1024, content_type="application/json")
    assert response.status_code == 403  # no credentials: refused for that, not for size


@pytest.mark.parametrize("length", ["ten", "-1"])
def test_a_malformed_content_length_is_a_400(client, length):
    response = client.generic("POST", "/api/devices/", b"{}", content_type="application/json", CONTENT_LENGTH=length)
    assert response.status_code == 400 and "Content-Length" in response.json()["error"]


def test_a_query_string_over_the_limit_is_refused_with_414(client, settings):
    response = client.get("/api/devices/?status=" + "x" * settings.MAX_QUERY_STRING_BYTES)
    assert response.status_code == 414
    assert response.json() == {"error": f"query string longer than {settings.MAX_QUERY_STRING_BYTES} bytes"}


def test_a_flood_of_query_parameters_is_a_400_with_the_error_shape(client):
    response = client.get("/api/devices/?" + "a&" * 1500)
    assert response.status_code == 400
    assert response.json() == {"error": "more than 1000 query parameters"}


def test_an_ordinary_query_passes_the_limits(client):
    assert client.get("/api/devices/?status=ONLINE").status_code == 200


def test_json_nested_to_the_limit_is_parsed():
    response = post_json(nested(MAX_JSON_DEPTH))
    assert response.status_code == 200 and response.data == {"depth": MAX_JSON_DEPTH}


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 5_000, 200_000])
def test_json_nested_deeper_is_a_400_not_a_recursion_error(depth):
    response = post_json(nested(depth))
    assert response.status_code == 400
    assert response.data == {"error": f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels"}


def test_malformed_json_is_a_400_with_the_error_shape():
    response = post_json(b'{"a": ')
    assert response.status_code == 400 and response.data["error"].startswith("JSON parse error")


def test_json_depth_counts_lists_and_objects():
    assert json_depth(1) == 0
    assert json_depth({"a": [1, {"b": []}]}) == 4
    assert json_depth([[], [[[]]]]) == 4
