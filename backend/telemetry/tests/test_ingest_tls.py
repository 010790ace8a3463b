"""The ingest over TLS (MQTT_TLS, MQTT_CA_FILE) to a real Mosquitto TLS listener, with throw-away certificates."""
import subprocess

import pytest

from devtools.broker import LocalBroker, free_port, port_in_use
from devtools.waiting import wait_until
from telemetry.models import Telemetry

pytestmark = pytest.mark.django_db(transaction=True)


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_ca(folder, name: str):
    key, cert = folder / f"{name}.key", folder / f"{name}.pem"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={name}",
            "-keyout", str(key), "-out", str(cert))
    return key, cert


@pytest.fixture
def certificates(tmp_path):
    """A CA, a server certificate it signed for 127.0.0.1, and a second CA that signed nothing."""
    folder = tmp_path / "tls"
    folder.mkdir()
    ca_key, ca_cert = make_ca(folder, "test-ca")
    _, other_ca = make_ca(folder, "other-ca")
    server_key, server_csr, server_cert = folder / "server.key", folder / "server.csr", folder / "server.pem"
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", str(server_key),
            "-out", str(server_csr))
    extensions = folder / "san.cnf"
    extensions.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", str(server_csr), "-CA", str(ca_cert), "-CAkey", str(ca_key), "-CAcreateserial",
            "-days", "1", "-extfile", str(extensions), "-out", str(server_cert))
    return {"ca": ca_cert, "other_ca": other_ca, "key": server_key, "cert": server_cert}


@pytest.fixture
def tls_broker(tmp_path, certificates):
    """A broker with its plain listener (for the test's publisher) and a TLS listener."""
    tls_port = free_port()
    extra = (f"listener {tls_port} 127.0.0.1\ncafile {certificates['ca']}\ncertfile {certificates['cert']}\n"
             f"keyfile {certificates['key']}\n")
    broker = LocalBroker(tmp_path / "broker", extra=extra).start()
    broker.tls_port = tls_port
    wait_until(lambda: port_in_use(tls_port), timeout=10)
    yield broker
    broker.stop(hard=True)


def test_the_ingest_stores_readings_received_over_tls(tls_broker, certificates, platform_env, start_ingest,
                                                       publisher_for):
    env = platform_env(tls_broker, MQTT_PORT=tls_broker.tls_port, MQTT_TLS="true", MQTT_CA_FILE=certificates["ca"])
    ingest = start_ingest(tls_broker, env=env)
    assert f"connecting to mqtts://127.0.0.1:{tls_broker.tls_port}" in ingest.output()
    publisher_for(tls_broker).reading("tls-dev", temperature=21.5, ts=1728481425000)
    wait_until(lambda: Telemetry.objects.filter(device_id="tls-dev").count() == 1, timeout=15)


def test_with_the_wrong_ca_the_ingest_does_not_connect_and_says_why(tls_broker, certificates, platform_env,
                                                                   start_process):
    env = platform_env(tls_broker, MQTT_PORT=tls_broker.tls_port, MQTT_TLS="true",
                       MQTT_CA_FILE=certificates["other_ca"])
    ingest = start_process("ingest", env=env)
    ingest.wait_for_output(r"cannot connect to mqtts://127\.0\.0\.1:\d+; retrying: .*certificate verify failed",
                           timeout=30)
    assert ingest.running
    assert "connected, subscribed" not in ingest.output()
    assert ingest.terminate() == 0
    assert ingest.output().count("cannot connect to") == 1  # once per outage, not once per retry


@pytest.mark.parametrize(("env", "message"), [
    ({"MQTT_TLS": "true", "MQTT_CA_FILE": "/nonexistent/ca.pem"}, "cannot set up TLS to the broker"),
    ({"MQTT_CA_FILE": "ca.pem"}, "MQTT_CA_FILE set without MQTT_TLS=true"),
    ({"MQTT_TLS": "true", "MQTT_KEY_FILE": "client.key"}, "MQTT_KEY_FILE needs MQTT_CERT_FILE"),
    ({"MQTT_TLS": "maybe"}, "MQTT_TLS='maybe' is not a boolean"),
])
def test_bad_tls_settings_stop_the_ingest_at_start(mqtt_broker, platform_env, start_process, env, message):
    ingest = start_process("ingest", env=platform_env(mqtt_broker, **env))
    assert ingest.process.wait(timeout=60) != 0
    assert message in ingest.output()
