"""--http: readings POSTed to the device endpoint with X-API-Key, batched, through 429 and refused keys."""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from devtools.processes import ManagedProcess
from tests.conftest import REPO_DIR, SIMULATOR


class Recorder:
    """A local server answering each POST with the next scripted status (then 201), recording every request."""

    def __init__(self, statuses: list[tuple[int, dict]] | None = None):
        self.requests: list[tuple[str, object, object]] = []
        self.statuses = list(statuses or [])
        self.lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with recorder.lock:
                    recorder.requests.append((self.path, self.headers, body))  # names case-insensitive
                    status, headers = recorder.statuses.pop(0) if recorder.statuses else (201, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"error": "scripted"}' if status >= 400 else b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder():
    made: list[Recorder] = []

    def make(statuses=None) -> Recorder:
        made.append(Recorder(statuses))
        return made[-1]

    yield make
    for server in made:
        server.close()


def run(tmp_path, *args: str) -> ManagedProcess:
    process = ManagedProcess([sys.executable, str(SIMULATOR), "--interval", "0.01", "--drop-rate", "0", *args],
                             log_file=tmp_path / "simulator.log", cwd=REPO_DIR).start()
    process.process.wait(timeout=60)
    return process


def test_readings_are_posted_one_per_request_with_the_api_key(tmp_path, recorder):
    server = recorder()
    process = run(tmp_path, "--http", server.url, "--api-key", "key-1", "--device-id", "h-1", "--count", "3")
    assert process.process.returncode == 0, process.output()
    assert [path for path, _, _ in server.requests] == ["/api/devices/h-1/telemetry/"] * 3
    for _, headers, body in server.requests:
        assert headers["X-API-Key"] == "key-1"
        assert headers["Content-Type"] == "application/json"
        assert body["deviceId"] == "h-1" and isinstance(body["ts"], int)
    assert len({body["ts"] for _, _, body in server.requests}) == 3


def test_batch_sends_arrays_of_n_readings_per_device_and_the_rest_at_the_end(tmp_path, recorder):
    server = recorder()
    process = run(tmp_path, "--http", f"{server.url}/", "--api-key", "k", "--device-id", "hb", "--devices", "2",
                  "--count", "5", "--batch", "2")
    assert process.process.returncode == 0, process.output()
    sizes: dict[str, list[int]] = {}
    for path, _, body in server.requests:
        assert isinstance(body, list)
        device_id = path.split("/")[3]
        assert {reading["deviceId"] for reading in body} == {device_id}
        sizes.setdefault(device_id, []).append(len(body))
    assert sizes == {"hb-001": [2, 2, 1], "hb-002": [2, 2, 1]}
    assert "published 10" in process.output()


def test_a_429_is_retried_after_retry_after(tmp_path, recorder):
    server = recorder([(429, {"Retry-After": "1"})])
    process = run(tmp_path, "--http", server.url, "--api-key", "k", "--device-id", "h-429", "--count", "2")
    assert process.process.returncode == 0, process.output()
    bodies = [body["ts"] for _, _, body in server.requests]
    assert len(bodies) == 3 and bodies[0] == bodies[1]  # the throttled reading again, then the next one
    assert "Throttled by the server (429); retrying in 1.0 s" in process.output()


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_stops_with_a_clear_error_and_a_non_zero_exit(tmp_path, recorder, status):
    server = recorder([(status, {})])
    process = run(tmp_path, "--http", server.url, "--api-key", "bad", "--device-id", "h-bad", "--count", "5")
    assert process.process.returncode == 1
    assert f"error: the server refused the API key for h-bad ({status})" in process.output()
    assert len(server.requests) == 1


@pytest.mark.parametrize("argv, message", [
    (["--http", "http://x"], "--http needs --api-key"),
    (["--http", "x", "--api-key", "k"], "http:// or https://"),
    (["--batch", "2"], "goes with --http"),
])
def test_http_options_that_cannot_work_are_refused(argv, message, capsys):
    from simulator import parse_args

    with pytest.raises(SystemExit):
        parse_args(argv)
    assert message in capsys.readouterr().err
