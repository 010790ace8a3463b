"""--tls and --transport websockets: readings from the simulator reach the database over either transport."""
import sys

import pytest

from devtools.broker import LocalBroker, free_port, make_test_certificates, tls_and_websockets_listeners
from devtools.processes import ManagedProcess
from devtools.waiting import wait_until
from tests.conftest import REPO_DIR, SIMULATOR

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    return make_test_certificates(tmp_path_factory.mktemp("certificates"))


@pytest.fixture
def broker(tmp_path, certificates):
    """The development broker with a TLS listener and a WebSockets one besides its plain one (for the ingest)."""
    tls_port, websockets_port = free_port(), free_port()
    extra = tls_and_websockets_listeners(tls_port=tls_port, websockets_port=websockets_port,
                                         certificates=certificates)
    with LocalBroker(tmp_path / "broker", extra=extra) as running:
        running.tls_port, running.websockets_port = tls_port, websockets_port
        yield running


def simulate(tmp_path, port: int, device_id: str, *options: str, env: dict[str, str] | None = None) -> ManagedProcess:
    process = ManagedProcess(
        [sys.executable, str(SIMULATOR), "--host", "127.0.0.1", "--port", str(port), "--device-id", device_id,
         "--count", "5", "--interval", "0.02", "--drop-rate", "0", "--connect-retries", "0", *options],
        log_file=tmp_path / f"{device_id}.log", cwd=REPO_DIR, env=env,
    ).start()
    process.process.wait(timeout=60)
    return process


def stored(device_id: str) -> int:
    from telemetry.models import Telemetry

    return Telemetry.objects.filter(device_id=device_id).count()


@pytest.mark.parametrize("transport", ["tls", "tls-from-env", "websockets"])
def test_readings_sent_over_tls_or_websockets_are_stored(tmp_path, broker, certificates, start_ingest, transport):
    start_ingest(broker)
    device_id = f"over-{transport}"
    if transport == "tls":
        process = simulate(tmp_path, broker.tls_port, device_id, "--tls", "--ca-file", str(certificates["ca"]))
    elif transport == "tls-from-env":
        process = simulate(tmp_path, broker.tls_port, device_id,
                           env={"MQTT_TLS": "true", "MQTT_CA_FILE": str(certificates["ca"])})
    else:
        process = simulate(tmp_path, broker.websockets_port, device_id, "--transport", "websockets")
    assert process.process.returncode == 0, process.output()
    assert "published 5" in process.output()
    wait_until(lambda: stored(device_id) == 5)


def test_a_client_that_does_not_trust_the_brokers_ca_is_refused(tmp_path, broker, start_ingest):
    start_ingest(broker)
    # Without --ca-file the system's CAs are used, which never signed the test CA.
    process = simulate(tmp_path, broker.tls_port, "untrusting", "--tls")
    assert process.process.returncode == 1
    assert "certificate verify failed" in process.output()
    assert stored("untrusting") == 0


def test_plain_mqtt_on_the_tls_listener_gets_no_connection(tmp_path, broker):
    process = simulate(tmp_path, broker.tls_port, "plain-on-tls")
    assert process.process.returncode == 1
    assert stored("plain-on-tls") == 0
