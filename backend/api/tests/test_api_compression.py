"""Clients that accept gzip get the API's JSON compressed."""
import gzip
import json

import pytest

from devtools.factories import make_device, make_readings

pytestmark = pytest.mark.django_db


def test_the_devices_list_is_gzipped_for_clients_that_accept_it(client):
    for index in range(50):
        make_readings(make_device(f"device-{index:03}"), 1)
    plain = client.get("/api/devices/")
    compressed = client.get("/api/devices/", headers={"Accept-Encoding": "gzip"})
    assert compressed["Content-Encoding"] == "gzip"
    assert len(compressed.content) < len(plain.content) / 4
    assert json.loads(gzip.decompress(compressed.content)) == plain.json()
