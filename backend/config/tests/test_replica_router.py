"""Read replicas, in process: the settings DATABASE_REPLICA_URL builds, where the router sends each query."""
import logging
import runpy
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db.utils import ConnectionHandler
from django.http import HttpResponse
from django.test import RequestFactory

from config.routers import (
    PRIMARY,
    REPLICA,
    PrimaryReplicaRouter,
    ReplicaHealth,
    ReplicaReadsMiddleware,
    primary_reads,
    reads_from_replica,
    replica_reads,
)
from devices.admin import DeviceAdmin
from devices.models import Device
from devtools.broker import free_port
from devtools.processes import BACKEND_DIR
from telemetry.models import Telemetry

PRIMARY_URL = "postgres://app:pw@db-primary:5432/telemetry"
REPLICA_URL = "postgres://app:pw@db-replica:5432/telemetry"


@pytest.fixture
def load_settings(monkeypatch):
    """Evaluate config.settings under a given environment, in this process."""

    def load(**env: str) -> dict:
        for key in ("DATABASE_URL", "DATABASE_REPLICA_URL", "DATABASE_REPLICA_RETRY_SECONDS"):
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return runpy.run_path(str(BACKEND_DIR / "config" / "settings.py"))

    return load


def test_without_a_replica_url_there_is_no_replica_alias_and_no_router(load_settings):
    loaded = load_settings(DATABASE_URL=PRIMARY_URL)
    assert list(loaded["DATABASES"]) == ["default"]
    assert "DATABASE_ROUTERS" not in loaded
    assert "config.routers.ReplicaReadsMiddleware" not in loaded["MIDDLEWARE"]


def test_a_replica_url_adds_an_alias_built_like_default_the_router_and_the_middleware(load_settings):
    loaded = load_settings(DATABASE_URL=PRIMARY_URL, DATABASE_REPLICA_URL=REPLICA_URL + "?application_name=web",
                           DATABASE_CONN_MAX_AGE="30")
    default, replica = loaded["DATABASES"]["default"], loaded["DATABASES"][REPLICA]
    assert (replica["HOST"], replica["NAME"], replica["USER"]) == ("db-replica", "telemetry", "app")
    assert replica["CONN_MAX_AGE"] == default["CONN_MAX_AGE"] == 30
    assert replica["CONN_HEALTH_CHECKS"] is True
    assert replica["OPTIONS"] == {**default.get("OPTIONS", {}), "application_name": "web"}
    assert replica["OPTIONS"]["connect_timeout"] == 5
    # The test runner must not create a second test database for it.
    assert replica["TEST"] == {"MIRROR": "default"}
    assert loaded["DATABASE_ROUTERS"] == ["config.routers.PrimaryReplicaRouter"]
    assert "config.routers.ReplicaReadsMiddleware" in loaded["MIDDLEWARE"]
    assert loaded["DATABASE_REPLICA_RETRY_SECONDS"] == 5.0


def test_the_replica_url_may_set_its_own_connect_timeout(load_settings):
    loaded = load_settings(DATABASE_URL=PRIMARY_URL, DATABASE_REPLICA_URL=REPLICA_URL + "?connect_timeout=7")
    assert loaded["DATABASES"][REPLICA]["OPTIONS"]["connect_timeout"] == 7


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": PRIMARY_URL, "DATABASE_REPLICA_URL": "sqlite:///replica.sqlite3"}, "PostgreSQL streaming replica"),
        ({"DATABASE_URL": "sqlite:///primary.sqlite3", "DATABASE_REPLICA_URL": REPLICA_URL}, "DATABASE_URL on PostgreSQL"),
        ({"DATABASE_URL": PRIMARY_URL, "DATABASE_REPLICA_URL": "db-replica:5432/telemetry"}, "not a database URL"),
        ({"DATABASE_URL": PRIMARY_URL, "DATABASE_REPLICA_URL": "postgres://db-replica:5432"}, "names no database"),
        ({"DATABASE_URL": PRIMARY_URL, "DATABASE_REPLICA_URL": REPLICA_URL, "DATABASE_REPLICA_RETRY_SECONDS": "0"},
         "at least 0.1"),
    ],
)
def test_a_bad_replica_setting_stops_the_start_with_the_reason(load_settings, env, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        load_settings(**env)


class FakeHealth:
    def __init__(self, up: bool):
        self.up = up

    def available(self) -> bool:
        return self.up


def test_only_marked_reads_go_to_the_replica_and_only_while_it_is_available():
    router = PrimaryReplicaRouter(health=FakeHealth(up=True))
    assert router.db_for_read(Device) == PRIMARY
    with replica_reads():
        assert router.db_for_read(Device) == REPLICA
        assert router.db_for_read(Telemetry) == REPLICA
        router.health.up = False
        assert router.db_for_read(Device) == PRIMARY
    assert router.db_for_read(Device) == PRIMARY


def test_writes_accounts_and_pinned_reads_stay_on_the_primary():
    router = PrimaryReplicaRouter(health=FakeHealth(up=True))
    with replica_reads():
        assert router.db_for_write(Device) == PRIMARY
        # A login or a new token must work on the very next request, whatever the lag.
        assert router.db_for_read(User) == PRIMARY
        with primary_reads():
            assert router.db_for_read(Device) == PRIMARY
        assert router.db_for_read(Device) == REPLICA


def test_primary_reads_works_as_a_decorator():
    @primary_reads()
    def must_see_its_own_write():
        return reads_from_replica()

    with replica_reads():
        assert must_see_its_own_write() is False
        assert reads_from_replica() is True


def test_migrations_run_only_on_the_primary():
    router = PrimaryReplicaRouter(health=FakeHealth(up=True))
    assert router.allow_migrate(PRIMARY, "telemetry") is True
    assert router.allow_migrate(REPLICA, "telemetry") is False


def test_the_mark_of_one_thread_never_reaches_another():
    marked, checked = threading.Event(), threading.Event()

    def marked_request():
        with replica_reads():
            marked.set()
            checked.wait(10)
            return reads_from_replica()

    def other_request():
        marked.wait(10)
        try:
            return reads_from_replica()
        finally:
            checked.set()

    with ThreadPoolExecutor(2) as pool:
        inside, outside = pool.submit(marked_request), pool.submit(other_request)
        assert (inside.result(15), outside.result(15)) == (True, False)


def test_the_middleware_marks_safe_requests_only_and_clears_the_mark_afterwards():
    seen = []

    def view(request):
        seen.append(reads_from_replica())
        if request.method == "OPTIONS":
            raise RuntimeError("a view that fails")
        return HttpResponse()

    middleware = ReplicaReadsMiddleware(view)
    factory = RequestFactory()
    middleware(factory.get("/api/devices/"))
    middleware(factory.head("/api/devices/"))
    middleware(factory.post("/api/devices/"))
    middleware(factory.delete("/api/devices/"))
    with pytest.raises(RuntimeError):
        middleware(factory.options("/api/devices/"))
    assert seen == [True, True, False, False, True]
    assert reads_from_replica() is False


@pytest.mark.django_db
def test_the_admin_reads_on_the_primary_even_in_a_request_marked_for_the_replica(client, monkeypatch):
    admin_user = User.objects.create_superuser("operator", "operator@example.com", "pw")
    client.force_login(admin_user)
    seen = []
    original = DeviceAdmin.get_queryset

    def recording_get_queryset(self, request):
        seen.append(reads_from_replica())
        return original(self, request)

    monkeypatch.setattr(DeviceAdmin, "get_queryset", recording_get_queryset)
    with replica_reads():
        response = client.get("/admin/devices/device/")
    assert response.status_code == 200
    assert seen and not any(seen)


def test_an_unreachable_replica_is_skipped_for_the_retry_period_and_logged_once(caplog, settings, django_db_blocker):
    settings.DATABASE_REPLICA_RETRY_SECONDS = 5.0
    # A real connection attempt to a port nobody listens on.
    databases = ConnectionHandler({"default": {"ENGINE": "django.db.backends.dummy"}, REPLICA: {
        "ENGINE": "django.db.backends.postgresql", "HOST": "127.0.0.1", "PORT": free_port(),
        "NAME": "telemetry", "USER": "postgres", "CONN_HEALTH_CHECKS": True,
    }})
    attempts = []

    class CountingHandler:
        def __getitem__(self, alias):
            attempts.append(alias)
            return databases[alias]

    now = [1000.0]
    health = ReplicaHealth(databases=CountingHandler(), clock=lambda: now[0])
    try:
        with django_db_blocker.unblock(), caplog.at_level(logging.WARNING, logger="config.routers"):
            assert health.available() is False
            now[0] += 4.9
            assert health.available() is False
            assert len(attempts) == 1  # within the retry period: the primary, without a new attempt
            now[0] += 0.2
            assert health.available() is False
            assert len(attempts) == 2  # tried again after 5 s: still down, not logged again
        assert [record.getMessage() for record in caplog.records if "unreachable" in record.getMessage()][0].startswith(
            "read replica unreachable, API reads go to the primary (next try in 5 s)")
        assert len(caplog.records) == 1
    finally:
        databases.close_all()
