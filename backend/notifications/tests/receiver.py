"""A webhook receiver for tests: an http.server in a thread that checks every signature."""
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from notifications.signing import signature_valid


class Receiver:
    """Answers 500 to the first `fail_first` POSTs of each delivery, then 200 (401 to a bad signature), after `delay` s."""

    def __init__(self, secret: str, *, fail_first: int = 0, delay: float = 0.0):
        self.secret = secret
        self.fail_first = fail_first
        self.delay = delay
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        self.accepted: Counter = Counter()
        self.bad_signatures = 0
        self.in_progress = 0
        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def accepted_bodies(self) -> list[dict]:
        with self.lock:
            return [r["body"] for r in self.requests if r["status"] == 200]

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                delivery = self.headers["X-Telemetry-Delivery"]
                valid = signature_valid(secret=receiver.secret, timestamp=self.headers["X-Telemetry-Timestamp"],
                                        body=body, received=self.headers["X-Telemetry-Signature"])
                with receiver.lock:
                    receiver.in_progress += 1
                    seen = sum(1 for r in receiver.requests if r["delivery"] == delivery)
                    status = 401 if not valid else (500 if seen < receiver.fail_first else 200)
                    receiver.bad_signatures += not valid
                    receiver.requests.append({"delivery": delivery, "status": status, "at": time.monotonic(),
                                              "body": json.loads(body)})
                if receiver.delay:
                    receiver.release.wait(receiver.delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                    if status == 200:
                        with receiver.lock:
                            receiver.accepted[delivery] += 1
                except OSError:
                    pass  # the sender gave up waiting
                finally:
                    with receiver.lock:
                        receiver.in_progress -= 1

        return Handler
