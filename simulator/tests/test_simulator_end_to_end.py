"""A simulator run, through the real broker and `manage.py ingest`, is what the API serves."""
from datetime import UTC, datetime

import pytest

from devtools.waiting import wait_until
from readings import ReadingGenerator, device_seed

pytestmark = pytest.mark.django_db(transaction=True)


def iso_ms(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_a_simulated_fleets_readings_appear_through_the_api(
    mqtt_broker, start_ingest, run_simulator, unique_prefix, client
):
    start_ingest(mqtt_broker)
    sim = run_simulator(mqtt_broker, "--device-id", unique_prefix, "--devices", "2", "--count", "8",
                        "--drop-rate", "0", "--interval", "0.05", "--seed", "5")
    assert sim.process.wait(timeout=20) == 0, sim.output()

    def all_eight(device_id):
        response = client.get(f"/api/telemetry/?deviceId={device_id}")
        return response.status_code == 200 and len(response.json()) == 8 and response.json()

    for device_id in (f"{unique_prefix}-001", f"{unique_prefix}-002"):
        oldest_first = wait_until(lambda: all_eight(device_id), timeout=10)[::-1]
        # Exactly the seeded device's readings, in order, one interval apart.
        generator = ReadingGenerator(device_seed(5, device_id, "readings"))
        expected = [generator.next() for _ in range(8)]
        assert [(r["temperature"], r["humidity"]) for r in oldest_first] == [
            (e.temperature, e.humidity) for e in expected
        ]
        first_ts = datetime.fromisoformat(oldest_first[0]["ts"].replace("Z", "+00:00"))
        first_ms = int(first_ts.timestamp() * 1000)
        assert [r["ts"] for r in oldest_first] == [iso_ms(first_ms + 50 * i) for i in range(8)]

    devices = {d["device_id"]: d for d in client.get("/api/devices/").json()}
    for device_id in (f"{unique_prefix}-001", f"{unique_prefix}-002"):
        assert devices[device_id]["status"] == "ONLINE"
        assert devices[device_id]["latest"]["temperature"] is not None
