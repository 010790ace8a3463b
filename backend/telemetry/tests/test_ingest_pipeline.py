"""The ingest pipeline under pressure: stopping whatever it is doing, durable commits,
redeliveries, memory bounds, poison input and a refused subscription.

Real Mosquitto (the project's mosquitto.conf), the real `manage.py ingest` and its
writer process, the test database.
"""
import json
import re
import sqlite3
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from django.db import connection

from devtools.broker import LocalBroker, mosquitto_binary
from devtools.exactly_once import accepted_keys, stored_count, stored_keys
from devtools.fleet import FIXED_TS0 as TS0
from devtools.ingest_log import error_lines
from devtools.memory import RssSampler, family_rss
from devtools.pytest_plugin import sqlite_test_database
from devtools.waiting import wait_until
from health.models import Heartbeat
from telemetry.models import RejectedMessage, Telemetry

pytestmark = pytest.mark.django_db(transaction=True)

STOP_DEADLINE_SECONDS = 10.0  # docs/contract.md: exit 0 within 10 s of SIGTERM


def timed_stop(process) -> float:
    """SIGTERM; the seconds until the process exited with code 0 (fails past the deadline)."""
    started = time.monotonic()
    code = process.terminate(timeout=STOP_DEADLINE_SECONDS)
    elapsed = time.monotonic() - started
    assert code == 0, process.output()[-3000:]
    return elapsed


# --------------------------------------------------------------------------- 1. a stop that always stops


@pytest.mark.parametrize("busy_timeout", ["0.5", "30"], ids=["retrying", "waiting-on-the-lock"])
def test_a_stop_while_sqlite_is_locked_exits_in_time_and_a_restart_stores_everything_once(
    private_broker, platform_env, start_ingest, start_fleet, busy_timeout, report_figures
):
    database = sqlite_test_database()
    # 0.5 s: the writer's commit fails and is retried; 30 s (the default): it waits inside SQLite.
    env = platform_env(private_broker, SQLITE_BUSY_TIMEOUT_SECONDS=busy_timeout)
    ingest = start_ingest(private_broker, env=env)
    locker = sqlite3.connect(database, timeout=10, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        fleet = start_fleet(private_broker, devices=20, count=1_000)  # 20,000 readings, as fast as accepted
        result = fleet.finish()
        assert result["acked_total"] == 20_000
        if busy_timeout == "0.5":
            wait_until(lambda: error_lines(ingest.output()), timeout=15, message="no database error logged")
        # The broker has handed the ingest its whole in-flight window by now: far more than a pipe holds.
        stop_seconds = timed_stop(ingest)
    finally:
        if locker.in_transaction:
            locker.execute("ROLLBACK")
        locker.close()
    assert stored_count(fleet.prefix) == 0

    restarted = start_ingest(private_broker, env=env)
    wait_until(lambda: stored_count(fleet.prefix) >= 20_000, timeout=90,
               message="the restarted ingest did not store the 20,000 readings")
    timed_stop(restarted)
    assert stored_keys(fleet.prefix) == accepted_keys(result)
    report_figures(f"stop under a SQLite lock (busy timeout {busy_timeout} s)", sent=result["sent"],
           stop_s=stop_seconds, stored_after_restart=stored_count(fleet.prefix))


def test_a_stop_while_draining_a_backlog_exits_in_time_and_a_restart_stores_everything_once(
    private_broker, platform_env, start_ingest, start_fleet, report_figures
):
    env = platform_env(private_broker)
    timed_stop(start_ingest(private_broker, env=env))  # creates the persistent session
    fleet = start_fleet(private_broker, devices=20, count=1_000)  # queued for the stopped ingest
    result = fleet.finish()
    ingest = start_ingest(private_broker, env=env)
    wait_until(lambda: stored_count(fleet.prefix) > 0, timeout=30)
    stop_seconds = timed_stop(ingest)
    stored_at_stop = stored_count(fleet.prefix)

    restarted = start_ingest(private_broker, env=env)
    wait_until(lambda: stored_count(fleet.prefix) >= 20_000, timeout=90)
    timed_stop(restarted)
    assert stored_keys(fleet.prefix) == accepted_keys(result)
    report_figures("stop mid-backlog", sent=result["sent"], stored_at_stop=stored_at_stop, stop_s=stop_seconds)


# --------------------------------------------------------------------------- 2. acknowledged means durable


def test_the_writer_commits_with_synchronous_full(mqtt_broker, start_ingest):
    sqlite_test_database()
    ingest = start_ingest(mqtt_broker)
    # The writer reports what its own connection answers to PRAGMA synchronous.
    ingest.wait_for_output(r"writer started \(pid \d+, sqlite synchronous=FULL\)")


def test_sqlite_synchronous_can_be_set_to_normal_for_the_benchmark(mqtt_broker, platform_env, start_ingest):
    sqlite_test_database()
    ingest = start_ingest(mqtt_broker, env=platform_env(mqtt_broker, SQLITE_SYNCHRONOUS="normal"))
    ingest.wait_for_output(r"writer started \(pid \d+, sqlite synchronous=NORMAL\)")


# --------------------------------------------------------------------------- 3. redeliveries without ts


def test_readings_without_ts_redelivered_after_a_crash_are_counted_and_qos0_ones_are_not_lost(
    private_broker, platform_env, start_ingest, publisher_for
):
    database = sqlite_test_database()
    env = platform_env(private_broker, SQLITE_BUSY_TIMEOUT_SECONDS="0.5")
    ingest = start_ingest(private_broker, env=env)
    publisher = publisher_for(private_broker)
    locker = sqlite3.connect(database, timeout=10, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")  # the writer cannot commit, so nothing is acked
        for index in range(10):
            publisher.publish("devices/dev-nots-q1/telemetry", {"temperature": 20 + index}, qos=1)
            publisher.publish("devices/dev-nots-q0/telemetry", {"temperature": 20 + index}, qos=0)
        wait_until(lambda: error_lines(ingest.output()), timeout=15, message="no database error logged")
        ingest.kill()  # crashed with 20 readings delivered and none acked
    finally:
        if locker.in_transaction:
            locker.execute("ROLLBACK")
        locker.close()

    restarted = start_ingest(private_broker, env=env)
    wait_until(lambda: Telemetry.objects.filter(device__device_id__startswith="dev-nots-").count() == 20, timeout=30,
               message="the redelivered readings were not all stored")
    # QoS 0 reached the ingest at QoS 1 (upgrade_outgoing_qos), so the broker kept it until the ack.
    for device in ("dev-nots-q1", "dev-nots-q0"):
        assert sorted(Telemetry.objects.filter(device_id=device).values_list("temperature", flat=True)) == [
            20.0 + index for index in range(10)
        ]
    wait_until(lambda: Heartbeat.objects.get(process__startswith="ingest:").details.get("redelivered_without_ts") == 20, timeout=15,
               message="the heartbeat does not count 20 redelivered readings without ts")
    restarted.wait_for_output(r"totals: .*redelivered_without_ts=20\b")
    timed_stop(restarted)
    assert re.search(r"ingest stopped \(totals: .*'redelivered_without_ts': 20\b", restarted.output())


# --------------------------------------------------------------------------- 5. memory bounds


LARGE_PAYLOAD_COUNT = 1_000
LARGE_PAYLOAD_BYTES = 60 * 1024
# The ingest and its writer may grow at most this much over their idle size while a
# backlog of 60 MB of payloads drains. Measured: about 11 MiB (the ingest stops reading
# at 4 MiB held), against about 170 MiB when it read the broker's whole window.
LARGE_PAYLOAD_RSS_GROWTH_MB = 32


def publish_large_payloads(broker: LocalBroker, prefix: str) -> None:
    """1,000 readings of 60 KiB, half at QoS 0, each acknowledged or written out by the client."""
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix}-publisher")
    client.max_inflight_messages_set(100)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        infos = []
        for index in range(LARGE_PAYLOAD_COUNT):
            body = {"temperature": 20.0, "ts": TS0 + index, "note": ""}
            body["note"] = "x" * (LARGE_PAYLOAD_BYTES - len(json.dumps(body)))
            # Half at QoS 0: without upgrade_outgoing_qos those bypass the broker's window.
            infos.append(client.publish(f"devices/{prefix}-{index % 10}/telemetry", json.dumps(body), qos=index % 2))
        for info in infos:
            info.wait_for_publish(timeout=60)
    finally:
        client.disconnect()
        client.loop_stop()


def test_the_ingest_memory_stays_bounded_while_a_backlog_of_large_payloads_drains(
    private_broker, platform_env, start_ingest, start_process, publisher_for, report_figures
):
    env = platform_env(private_broker)
    ingest = start_ingest(private_broker, env=env)
    publisher_for(private_broker).reading("warm-up-0", temperature=20.0, ts=TS0)
    wait_until(lambda: stored_count("warm-up") == 1)  # the writer is up, Django loaded in both processes
    idle = family_rss(ingest.process.pid)
    timed_stop(ingest)
    prefix = f"big{uuid.uuid4().hex[:6]}"
    publish_large_payloads(private_broker, prefix)  # queued for the stopped ingest's session

    ingest = start_process("ingest", "--flush-ms", "20", "--summary-seconds", "1", env=env)
    started = time.monotonic()
    sampler = RssSampler(ingest.process.pid, interval=0.02)
    sampler.start()
    try:
        wait_until(lambda: stored_count(prefix) >= LARGE_PAYLOAD_COUNT, timeout=120,
                   message="not every large reading was stored")
        drain_seconds = time.monotonic() - started
    finally:
        peak_mb = sampler.peak_mb()
    growth_mb = peak_mb - idle / 2**20
    report_figures("backlog of 1,000 x 60 KiB", idle_mb=idle / 2**20, peak_mb=peak_mb,
           growth_mb=growth_mb, drain_s=drain_seconds)
    assert stored_count(prefix) == LARGE_PAYLOAD_COUNT
    assert growth_mb < LARGE_PAYLOAD_RSS_GROWTH_MB


# --------------------------------------------------------------------------- 6. poison input


@pytest.fixture
def poisoned_temperature():
    """A SQLite trigger that makes storing a reading of 66.6 °C fail; dropped after the test."""
    sqlite_test_database()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TRIGGER poison_reading BEFORE INSERT ON telemetry_telemetry "
                       "WHEN NEW.temperature = 66.6 BEGIN SELECT RAISE(ABORT, 'poisoned reading'); END")
    yield 66.6
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS poison_reading")


def test_a_reading_the_database_refuses_becomes_a_rejection_and_the_batch_around_it_is_stored(
    mqtt_broker, start_ingest, publisher_for, poisoned_temperature
):
    # Batches gather for up to 2 s, so the bad reading shares one with many good ones.
    ingest = start_ingest(mqtt_broker, "--flush-ms", "2000")
    publisher = publisher_for(mqtt_broker)
    for index in range(300):
        temperature = poisoned_temperature if index == 150 else 20.0
        publisher.reading("dev-poison", temperature=temperature, ts=TS0 + index)

    wait_until(lambda: Telemetry.objects.filter(device_id="dev-poison").count() == 299, timeout=30,
               message="the good readings of the poisoned batch were not stored")
    [rejection] = RejectedMessage.objects.filter(topic="devices/dev-poison/telemetry")
    assert rejection.reason == "could not be stored: IntegrityError: poisoned reading"
    assert json.loads(rejection.payload)["ts"] == TS0 + 150
    assert not Telemetry.objects.filter(device_id="dev-poison", temperature=poisoned_temperature).exists()

    publisher.reading("dev-poison", temperature=21.0, ts=TS0 + 1_000)  # the stream goes on
    wait_until(lambda: Telemetry.objects.filter(device_id="dev-poison").count() == 300, timeout=15)
    ingest.wait_for_output(r"rejected=1\b")
    assert "writer process exited" not in ingest.output()
    timed_stop(ingest)


def test_on_postgresql_a_reading_failing_with_a_data_exception_becomes_a_rejection(
    mqtt_broker, platform_env, start_process, start_ingest, publisher_for, postgres_database
):
    import psycopg

    admin, name, url = postgres_database
    env = platform_env(mqtt_broker, DATABASE_URL=url)
    migrate = start_process("migrate", "--noinput", env=env)
    assert migrate.process.wait(timeout=120) == 0, migrate.output()[-3000:]
    with psycopg.connect(url, autocommit=True) as database:
        database.execute(
            "CREATE FUNCTION poison_reading() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.temperature = 66.6 THEN RAISE EXCEPTION 'poisoned reading' USING ERRCODE = '22000'; END IF; "
            "RETURN NEW; END $$"
        )
        database.execute("CREATE TRIGGER poison_reading BEFORE INSERT ON telemetry_telemetry "
                         "FOR EACH ROW EXECUTE FUNCTION poison_reading()")
        ingest = start_ingest(mqtt_broker, "--flush-ms", "2000", env=env)
        publisher = publisher_for(mqtt_broker)
        for index in range(100):
            publisher.reading("dev-pg-poison", temperature=66.6 if index == 50 else 20.0, ts=TS0 + index)

        def count() -> int:
            return database.execute("SELECT count(*) FROM telemetry_telemetry WHERE device_id = 'dev-pg-poison'"
                                    ).fetchone()[0]

        wait_until(lambda: count() == 99, timeout=30, message="the good readings of the poisoned batch were not stored")
        wait_until(lambda: database.execute("SELECT count(*) FROM telemetry_rejectedmessage").fetchone()[0] == 1,
                   timeout=15)
        [(reason,)] = database.execute("SELECT reason FROM telemetry_rejectedmessage").fetchall()
        assert reason == "could not be stored: DataError: poisoned reading"
        timed_stop(ingest)


# --------------------------------------------------------------------------- 7. a refused subscription


def dynamic_security_plugin() -> Path | None:
    """Mosquitto's dynamic security plugin, wherever the distribution installed it."""
    prefix = Path(mosquitto_binary()).resolve().parents[1]  # e.g. sbin/mosquitto under the prefix
    for root in (prefix / "lib", prefix / "lib64"):
        found = next(root.glob("**/mosquitto_dynamic_security.so"), None) if root.is_dir() else None
        if found:
            return found
    return None


def test_a_subscription_the_broker_refuses_is_an_error_and_health_shows_mqtt_disconnected(
    tmp_path, platform_env, start_process, client
):
    # Mosquitto's acl_file never refuses a SUBSCRIBE (it filters deliveries); the
    # dynamic security plugin does, with 0x80, when its ACL denies the topic.
    plugin = dynamic_security_plugin()
    if plugin is None:
        pytest.skip("mosquitto_dynamic_security.so is not installed")
    dynsec = tmp_path / "dynamic-security.json"
    dynsec.write_text(json.dumps({
        "defaultACLAccess": {"publishClientSend": True, "publishClientReceive": True,
                             "subscribe": False, "unsubscribe": True},
        "clients": [], "roles": [], "groups": [{"groupname": "anonymous", "roles": []}],
        "anonymousGroup": "anonymous",
    }))
    extra = f"plugin {plugin}\nplugin_opt_config_file {dynsec}\n"
    with LocalBroker(tmp_path / "broker", extra=extra) as broker:
        ingest = start_process("ingest", "--summary-seconds", "1", env=platform_env(broker))
        ingest.wait_for_output(r"ERROR telemetry\.ingest: the broker refused the subscription to devices/\+/telemetry")
        wait_until(lambda: Heartbeat.objects.filter(process__startswith="ingest:", state="subscription refused").exists(),
                   timeout=15, message="the heartbeat does not say the subscription was refused")
        assert client.get("/api/health/").json()["mqtt"] == "disconnected"
        assert "connected, subscribed" not in ingest.output()
        timed_stop(ingest)
