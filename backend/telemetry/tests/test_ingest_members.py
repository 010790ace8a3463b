"""Several `ingest --shared-group` processes with the same settings: a client id each, kept across restarts."""
import re
import signal
from collections import Counter

import pytest

from devtools.waiting import wait_until
from telemetry.membership import MembershipError, claim_member_id
from telemetry.models import Telemetry

TS = 1728481425000
DEVICES = [f"member-test-{n:02d}" for n in range(10)]
MEMBER_LINE = r"member of shared group 'ingest' with client id '([^']+)'"


def member_id(process) -> str:
    return process.wait_for_output(MEMBER_LINE).group(1)


def publish_readings(publisher, readings: list[tuple[str, int]]) -> None:
    """Publish at QoS 1 with many in flight, then wait for every acknowledgement."""
    infos = [publisher.client.publish(f"devices/{device}/telemetry",
                                      f'{{"deviceId": "{device}", "ts": {ts}, "temperature": 20}}', qos=1)
             for device, ts in readings]
    for info in infos:
        info.wait_for_publish(timeout=30)
        assert info.is_published()


def stored_readings() -> Counter:
    rows = Telemetry.objects.filter(device_id__in=DEVICES).values_list("device_id", "ts")
    return Counter((device, round(ts.timestamp() * 1000)) for device, ts in rows)


@pytest.mark.django_db(transaction=True)
def test_two_members_with_identical_settings_split_the_stream_and_a_killed_one_comes_back_as_itself(
    private_broker, platform_env, start_ingest, publisher_for
):
    env = platform_env(private_broker)
    command = ("--shared-group", "ingest")
    first = start_ingest(private_broker, *command, env=env)
    second = start_ingest(private_broker, *command, env=env)
    base = env["MQTT_CLIENT_ID"]
    assert {member_id(first), member_id(second)} == {f"{base}-0", f"{base}-1"}
    killed_id = member_id(second)

    readings = [(device, TS + n) for n in range(400) for device in DEVICES]  # 4,000
    publisher = publisher_for(private_broker)
    publish_readings(publisher, readings[:2000])
    wait_until(lambda: sum(stored_readings().values()) >= 1000, timeout=30)

    second.process.send_signal(signal.SIGKILL)
    second.process.wait()
    wait_until(lambda: f"Client {killed_id} closed its connection" in private_broker.log_file.read_text()
               or f"Client {killed_id} disconnected" in private_broker.log_file.read_text())
    # Published while it is down: the broker queues its share in its session.
    publish_readings(publisher, readings[2000:3000])

    second.start()
    second.wait_for_output(r"connected, subscribed")
    assert member_id(second) == killed_id
    assert "session resumed" in second.output()
    publish_readings(publisher, readings[3000:])

    wait_until(lambda: sum(stored_readings().values()) >= len(readings), timeout=60)
    assert stored_readings() == Counter(readings)  # every reading exactly once
    log = private_broker.log_file.read_text()
    assert "already connected, closing old connection" not in log
    for member in (first, second):
        assert member.terminate() == 0
        totals = re.search(r"ingest stopped \(totals: (\{.*\})\)", member.output()).group(1)
        assert "'received': 0" not in totals and "received" in totals, totals


@pytest.mark.django_db(transaction=True)
def test_without_a_shared_group_the_client_id_is_exactly_mqtt_client_id(mqtt_broker, platform_env, start_ingest):
    env = platform_env(mqtt_broker)
    ingest = start_ingest(mqtt_broker, env=env)
    assert f"as {env['MQTT_CLIENT_ID']!r}" in ingest.output()
    assert "member of shared group" not in ingest.output()


@pytest.mark.django_db(transaction=True)
def test_ingest_member_id_names_the_member_and_a_second_process_with_it_is_refused(
    mqtt_broker, platform_env, start_ingest, start_process
):
    env = platform_env(mqtt_broker, INGEST_MEMBER_ID="blue")
    start_ingest(mqtt_broker, "--shared-group", "ingest", env=env)
    duplicate = start_process("ingest", "--shared-group", "ingest", env=env)
    assert duplicate.process.wait(timeout=30) != 0
    assert f"another ingest on this host already runs as client id '{env['MQTT_CLIENT_ID']}-blue'" in duplicate.output()


def test_members_claim_the_lowest_free_slot(tmp_path):
    first = claim_member_id("ingest", tmp_path)
    second = claim_member_id("ingest", tmp_path)
    assert (first.client_id, second.client_id) == ("ingest-0", "ingest-1")
    first.release()
    third = claim_member_id("ingest", tmp_path)
    other = claim_member_id("other", tmp_path)
    assert (third.client_id, other.client_id) == ("ingest-0", "other-0")
    for membership in (second, third, other):
        membership.release()


@pytest.mark.parametrize("member_id", ["-lead", "a/b", "x" * 65, "white space"])
def test_a_bad_member_id_is_refused(tmp_path, member_id):
    with pytest.raises(MembershipError, match="INGEST_MEMBER_ID"):
        claim_member_id("ingest", tmp_path, member_id)
