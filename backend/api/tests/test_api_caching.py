"""The heavy reads (fleet stats, series, long-window averages) are shared for API_CACHE_SECONDS by every web worker."""
import json
import runpy
import shutil
import socket
import threading
import time
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from api import caching
from api.serializers import SeriesSerializer
from devtools.factories import make_device, make_readings
from config.caches import API_CACHE_TABLE, shared_cache
from devtools.broker import free_port
from devtools.processes import BACKEND_DIR, ManagedProcess
from devtools.waiting import wait_until
from telemetry.models import DeviceMinute, Telemetry
from telemetry.selectors import telemetry_series

# The tables the cached reads compute from: the readings, and the minute rollups of the fleet stats.
DATA_TABLES = (Telemetry._meta.db_table, DeviceMinute._meta.db_table)
FLEET = "/api/stats/fleet/?window=5m"
SERIES = "/api/telemetry/series/?deviceId=device-001&window=1h&points=60"
LONG_AVG = "/api/stats/avg/?deviceId=device-001&window=24h"
CACHED_URLS = [FLEET, SERIES, LONG_AVG]

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_api_cache(db, settings):
    """A long TTL unless a test says otherwise, and an empty shared cache before and after."""
    settings.API_CACHE_SECONDS = 60
    caches["api"].clear()
    yield
    # The table itself, whatever a test pointed the alias at: transactional tests commit to it.
    DatabaseCache(API_CACHE_TABLE, {}).clear()


@pytest.fixture
def readings():
    device = make_device("device-001")
    make_readings(device, 20)
    make_readings(make_device("device-002"), 5)
    return device


def get(client: Client, url: str, **extra) -> tuple[int, bytes, int]:
    """(status, body, how many queries read the readings or their rollups)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    return response.status_code, response.content, sum(any(table in q["sql"] for table in DATA_TABLES) for q in queries)


def add_reading(device, temperature: float) -> None:
    make_readings(device, 1, start=timezone.now(), temperature=temperature)


@pytest.mark.parametrize("url", CACHED_URLS)
def test_a_second_identical_request_within_the_ttl_runs_no_query_on_the_readings(client, readings, url):
    first = get(client, url)
    assert first[0] == 200 and first[2] >= 1
    second = get(client, url)
    assert second[2] == 0
    assert second[:2] == first[:2]


@pytest.mark.parametrize(
    ("url", "other"),
    [
        (FLEET, "/api/stats/fleet/?window=10m"),
        (SERIES, "/api/telemetry/series/?deviceId=device-002&window=1h&points=60"),
        (SERIES, "/api/telemetry/series/?deviceId=device-001&window=2h&points=60"),
        (SERIES, "/api/telemetry/series/?deviceId=device-001&window=1h&points=30"),
        (LONG_AVG, "/api/stats/avg/?deviceId=device-002&window=24h"),
        (LONG_AVG, "/api/stats/avg/?deviceId=device-001&window=2h"),
    ],
)
def test_a_different_parameter_is_computed_afresh(client, readings, url, other):
    get(client, url)
    status, _, readings_queries = get(client, other)
    assert status == 200 and readings_queries >= 1


def test_the_same_window_written_differently_shares_the_answer_and_keeps_its_own_spelling(client, readings):
    hour = client.get("/api/stats/avg/?deviceId=device-001&window=1h").json()
    status, body, readings_queries = get(client, "/api/stats/avg/?deviceId=device-001&window=60m")
    assert readings_queries == 0
    assert hour["window"] == "1h"
    assert {**hour, "window": "60m"} == json.loads(body)


def test_averages_over_short_windows_stay_live(client, readings):
    url = "/api/stats/avg/?deviceId=device-001&window=5m"
    assert get(client, url)[2] >= 1
    add_reading(readings, 99.0)
    status, body, readings_queries = get(client, url)
    assert readings_queries >= 1 and b'"data_points":21' in body


def test_after_the_ttl_the_answer_is_recomputed(client, readings, settings):
    settings.API_CACHE_SECONDS = 1
    before = client.get(FLEET).json()
    add_reading(readings, 99.0)
    assert client.get(FLEET).json() == before  # within the TTL: the stored answer

    def fresh():
        status, body, readings_queries = get(client, FLEET)
        return readings_queries >= 1 and body

    body = wait_until(fresh, timeout=10, message="the fleet stats were not recomputed after the TTL")
    assert b'"data_points":21' in body


def test_zero_seconds_turns_the_cache_off(client, readings, settings):
    settings.API_CACHE_SECONDS = 0
    for url in CACHED_URLS:
        assert get(client, url)[2] >= 1
        assert get(client, url)[2] >= 1


@pytest.mark.parametrize("url", CACHED_URLS)
def test_the_answer_is_the_same_cached_or_not(client, readings, settings, url):
    settings.API_CACHE_SECONDS = 0
    uncached = client.get(url)
    settings.API_CACHE_SECONDS = 60
    miss, hit = client.get(url), client.get(url)
    for response in (miss, hit):
        assert response.status_code == uncached.status_code
        assert response.content == uncached.content
        assert response["Content-Type"] == uncached["Content-Type"]


def test_permissions_are_checked_before_the_cache(client, readings, settings, django_user_model):
    settings.API_READ_AUTH = True
    viewer = Client()
    viewer.force_login(django_user_model.objects.create_user("viewer"))
    assert viewer.get(FLEET).status_code == 200
    response = client.get(FLEET)
    assert response.status_code == 403
    assert response.json() == {"error": "Authentication credentials were not provided."}


def test_an_unknown_device_is_still_a_404_with_a_warm_cache(client, readings):
    get(client, SERIES)
    response = client.get(SERIES.replace("device-001", "nobody"))
    assert response.status_code == 404


def test_other_endpoints_and_the_throttles_write_nothing_to_the_shared_cache(client, readings):
    for url in ("/api/devices/", "/api/telemetry/?deviceId=device-001", "/api/alerts/", "/api/config/",
                "/api/stats/avg/?deviceId=device-001&window=5m"):
        assert client.get(url).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {API_CACHE_TABLE}")
        assert cursor.fetchone()[0] == 0


def test_migrate_creates_the_cache_table():
    assert API_CACHE_TABLE in connection.introspection.table_names()


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_misses_wait_for_the_first_instead_of_computing(monkeypatch):
    make_readings(make_device("device-001"), 20)
    computing, release, waiting = threading.Event(), threading.Event(), []
    computed = []
    real_compute = caching.cached

    def slow_first_compute(endpoint, params, compute):
        def counted():
            computed.append(threading.current_thread().name)
            computing.set()
            assert release.wait(timeout=30), "the test never released the first compute"
            return compute()

        return real_compute(endpoint, params, counted)

    real_wait = caching._wait_for_first

    def counted_wait(*args):
        waiting.append(threading.current_thread().name)
        return real_wait(*args)

    monkeypatch.setattr("api.views.cached", slow_first_compute)
    monkeypatch.setattr(caching, "_wait_for_first", counted_wait)
    monkeypatch.setattr(caching, "LOCK_SECONDS", 30.0)

    bodies = {}

    def request(name):
        try:
            bodies[name] = Client().get(FLEET).content
        finally:
            connections.close_all()  # this thread's own connections

    first = threading.Thread(target=request, args=("first",), name="first")
    first.start()
    assert computing.wait(timeout=30)
    others = [threading.Thread(target=request, args=(f"r{n}",), name=f"r{n}") for n in range(4)]
    for thread in others:
        thread.start()
    wait_until(lambda: len(waiting) == 4, timeout=30, message=f"waiting: {waiting}")
    release.set()
    for thread in [first, *others]:
        thread.join(timeout=30)
    assert computed == ["first"]
    assert len(set(bodies.values())) == 1 and len(bodies) == 5
    assert b'"data_points":20' in bodies["first"]


@pytest.mark.django_db(transaction=True)
def test_a_broken_database_cache_degrades_to_computing(client, settings):
    make_readings(make_device("device-001"), 20)
    settings.CACHES = {**settings.CACHES, "api": {**settings.CACHES["api"], "LOCATION": "no_such_cache_table"}}
    for _ in range(2):
        status, body, readings_queries = get(client, FLEET)
        assert status == 200 and readings_queries >= 1
        assert b'"data_points":20' in body


def test_redis_url_selects_redis_and_leaves_the_throttles_per_process(monkeypatch):
    settings_file = str(BACKEND_DIR / "config" / "settings.py")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6390/0")
    with_redis = runpy.run_path(settings_file)["CACHES"]
    assert with_redis["api"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert with_redis["api"]["LOCATION"] == "redis://127.0.0.1:6390/0"
    monkeypatch.delenv("REDIS_URL")
    without = runpy.run_path(settings_file)["CACHES"]
    assert without["api"] == {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": API_CACHE_TABLE}
    for caches_setting in (with_redis, without):
        assert caches_setting["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


@pytest.fixture
def redis_server(tmp_path):
    """A real redis-server of this test's own on a free port, without persistence; yields its URL."""
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.skip("redis-server is not installed (make test installs it)")
    port = free_port()
    server = ManagedProcess(
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        log_file=tmp_path / "redis.log",
    ).start()
    server.wait_for_output(r"Ready to accept connections")
    yield f"redis://127.0.0.1:{port}/0", server
    server.terminate()


@pytest.fixture
def redis_cache(settings, redis_server):
    url, server = redis_server
    settings.CACHES = {**settings.CACHES, "api": shared_cache(url)}
    caches["api"].clear()
    return server


def test_with_redis_a_second_identical_request_runs_no_query_and_the_answer_is_in_redis(client, readings,
                                                                                       redis_cache):
    import redis

    first = get(client, FLEET)
    second = get(client, FLEET)
    assert first[0] == 200 and first[2] >= 1
    assert second[2] == 0 and second[:2] == first[:2]
    keys = redis.Redis.from_url(caches["api"]._servers[0]).keys("*")
    assert any(b"stats/fleet?limit=1000&window=300" in key for key in keys), keys


def test_with_redis_down_the_answer_is_computed_quickly(client, readings, redis_cache):
    redis_cache.terminate()
    for _ in range(3):
        started = time.monotonic()
        status, body, readings_queries = get(client, FLEET)
        assert status == 200 and readings_queries >= 1
        assert b'"data_points":20' in body
        assert time.monotonic() - started < 5


def test_with_redis_not_answering_the_answer_is_computed_after_its_socket_timeout(client, readings, settings):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # never accepted, never answered
    try:
        settings.CACHES = {**settings.CACHES, "api": shared_cache(f"redis://127.0.0.1:{silent.getsockname()[1]}/0")}
        started = time.monotonic()
        status, body, _ = get(client, FLEET)
        took = time.monotonic() - started
    finally:
        silent.close()
    assert status == 200 and b'"data_points":20' in body
    assert took < 5, f"took {took:.1f} s"


def test_the_series_is_exactly_what_its_serializer_gives(client, readings):
    served = client.get(SERIES).content
    series = telemetry_series(device_id="device-001", window=timedelta(hours=1), points=60)
    expected = SeriesSerializer({"device_id": "device-001", "window": "1h", **series}).data
    assert served == JSONRenderer().render(expected)
