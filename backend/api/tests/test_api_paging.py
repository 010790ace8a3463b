"""The device list and the fleet stats come one keyset page at a time, with a Link to the next one."""
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert
from api.paging import cursor_encode
from devtools.factories import make_alert, make_device, make_readings
from devices.models import Device

pytestmark = pytest.mark.django_db

NEXT = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


def _walk(client, url: str) -> tuple[list[str], int]:
    """Every device id over the pages from `url` on, following the Link headers; and how many pages."""
    ids, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        ids += [row["device_id"] for row in response.json()]
        pages += 1
        link = response.headers.get("Link")
        url = NEXT.match(link)["url"] if link else None
    return ids, pages


def test_pages_cover_every_device_once_in_id_order_and_the_last_page_has_no_link(client):
    for index in range(7):
        make_device(f"d-{index:02}")
    ids, pages = _walk(client, "/api/devices/?limit=3")
    assert ids == [f"d-{index:02}" for index in range(7)] and pages == 3
    last = client.get("/api/devices/?limit=7")
    assert len(last.json()) == 7 and "Link" not in last.headers


def test_the_next_link_is_an_absolute_url_that_keeps_the_filters(client):
    for index in range(4):
        make_device(f"d-{index}", status=Device.Status.OFFLINE if index % 2 else Device.Status.ONLINE)
    response = client.get("/api/devices/?limit=1&status=offline")
    url = NEXT.match(response.headers["Link"])["url"]
    assert url.startswith("http://testserver/api/devices/?") and "status=offline" in url and "limit=1" in url
    assert _walk(client, "/api/devices/?limit=1&status=offline")[0] == ["d-1", "d-3"]


def test_a_cursor_stays_valid_when_devices_are_added_before_and_after_it(client):
    for device_id in ("b", "d", "f"):
        make_device(device_id)
    first = client.get("/api/devices/?limit=2")
    assert [row["device_id"] for row in first.json()] == ["b", "d"]
    make_device("a")
    make_device("c")
    make_device("e")
    rest, _ = _walk(client, NEXT.match(first.headers["Link"])["url"])
    assert rest == ["e", "f"]  # no duplicate of b or d, nothing after d skipped


def test_search_matches_a_prefix_of_the_id_or_the_name_and_pages(client):
    make_device("boiler-1")
    make_device("boiler-2")
    make_device("pump-1", name="boiler feed")
    make_device("pump-2", name="the boiler")
    make_device("xboiler")
    assert _walk(client, "/api/devices/?search=boiler&limit=1") == (["boiler-1", "boiler-2", "pump-1"], 3)
    assert client.get("/api/devices/?search=").status_code == 200


def test_without_limit_the_list_is_the_first_thousand_with_a_link_to_more(client):
    Device.objects.bulk_create(Device(device_id=f"d-{index:04}") for index in range(1001))
    response = client.get("/api/devices/")
    assert len(response.json()) == 1000 and response.json()[-1]["device_id"] == "d-0999"
    rest = client.get(NEXT.match(response.headers["Link"])["url"])
    assert [row["device_id"] for row in rest.json()] == ["d-1000"] and "Link" not in rest.headers


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "limit=ten", "limit=-1"])
def test_a_bad_limit_is_a_400_naming_limit(client, query):
    response = client.get(f"/api/devices/?{query}")
    assert response.status_code == 400 and response.json()["field"] == "limit"
    assert client.get(f"/api/stats/fleet/?{query}").json()["field"] == "limit"


@pytest.mark.parametrize("cursor", ["nonsense!", "ZDE6", cursor_encode("x")[:-2] + "$$", "bm90LW91cnM"])
def test_a_bad_cursor_is_a_400_naming_cursor(client, cursor):
    response = client.get("/api/devices/", {"cursor": cursor})
    assert response.status_code == 400 and response.json()["field"] == "cursor"
    assert client.get("/api/stats/fleet/", {"cursor": cursor}).json()["field"] == "cursor"


def test_the_link_header_is_exposed_to_the_dashboard_across_origins(client):
    make_device("a")
    make_device("b")
    response = client.get("/api/devices/?limit=1", headers={"Origin": "http://localhost:5173"})
    assert "Link" in response.headers
    assert "link" in response.headers["Access-Control-Expose-Headers"].lower()


def test_fleet_stats_page_over_the_devices_with_readings_in_the_window(client, settings):
    settings.API_CACHE_SECONDS = 0
    now = timezone.now()
    for index in range(5):
        make_readings(make_device(f"d-{index}"), 2, start=now - timedelta(seconds=30))
    make_readings(make_device("d-old"), 2, start=now - timedelta(hours=2))
    ids, pages = _walk(client, "/api/stats/fleet/?window=5m&limit=2")
    assert ids == ["d-0", "d-1", "d-2", "d-3", "d-4"] and pages == 3


def test_summary_counts_devices_by_status_and_the_active_alerts(client):
    one = make_device("a")
    make_device("b", status=Device.Status.OFFLINE)
    make_device("c")
    gone = make_device("d")
    Device.objects.filter(pk=gone.pk).update(decommissioned_at=timezone.now(), status=Device.Status.OFFLINE)
    make_alert(one, Alert.Type.HIGH_TEMP)
    make_alert(one, Alert.Type.OFFLINE, status=Alert.Status.CLEARED)
    assert client.get("/api/stats/summary/").json() == {"devices": 3, "online": 2, "offline": 1, "alerts_active": 1}


def test_fleet_stats_take_the_device_list_filters_and_page_with_its_cursor(client, settings):
    settings.API_CACHE_SECONDS = 0
    now = timezone.now()
    for index in range(6):
        device = make_device(f"pump-{index}", status=Device.Status.OFFLINE if index % 2 else Device.Status.ONLINE,
                             device_type="pump", location="hall" if index < 4 else "yard")
        if index != 2:  # pump-2 has no readings in the window: it is on the page, without a row
            make_readings(device, 2, start=now - timedelta(seconds=30))
    make_readings(make_device("boiler-1", device_type="boiler"), 2, start=now - timedelta(seconds=30))
    gone = make_device("pump-9", device_type="pump")
    make_readings(gone, 2, start=now - timedelta(seconds=30))
    Device.objects.filter(pk=gone.pk).update(decommissioned_at=now)
    for query in ("status=online", "search=pump", "device_type=pump", "location=hall", "search=pump&status=ONLINE"):
        devices = client.get(f"/api/devices/?limit=2&{query}")
        stats = client.get(f"/api/stats/fleet/?window=5m&limit=2&{query}")
        page = [row["device_id"] for row in devices.json()]
        assert [row["device_id"] for row in stats.json()] == [d for d in page if d != "pump-2"], query
        # The same cursor: the next page of the stats is that of the list.
        list_next = NEXT.match(devices.headers["Link"])["url"].split("cursor=")[1]
        assert NEXT.match(stats.headers["Link"])["url"].split("cursor=")[1] == list_next, query
    assert _walk(client, "/api/stats/fleet/?window=5m&limit=2&device_type=pump")[0] == [
        "pump-0", "pump-1", "pump-3", "pump-4", "pump-5"]
    assert _walk(client, "/api/stats/fleet/?window=2h&limit=1&location=yard") == (["pump-4", "pump-5"], 2)


@pytest.mark.parametrize("query", ["status=asleep", "device_type=" + "x" * 101])
def test_a_bad_filter_of_the_fleet_stats_is_a_400_naming_it(client, query):
    response = client.get(f"/api/stats/fleet/?{query}")
    assert response.status_code == 400 and response.json()["field"] == query.split("=")[0]
