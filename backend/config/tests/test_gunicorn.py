"""Gunicorn with config/gunicorn.conf.py and the production settings, as a TLS proxy would reach it."""
import socket
import time

import pytest

from devtools.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

WORKER_TIMEOUT = 2


@pytest.fixture
def gunicorn(start_gunicorn):
    """One sync worker with a short timeout, serving the test database; its port once it answers."""
    port, _ = start_gunicorn(GUNICORN_TIMEOUT=WORKER_TIMEOUT)
    wait_until(lambda: raw_request(port, b"GET /api/health/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", timeout=5),
               timeout=15, interval=0.1, message="gunicorn never answered")
    return port


def raw_request(port: int, head: bytes, timeout: float = 10) -> bytes:
    """Send a request head as given; the whole answer (empty if the connection failed or was cut)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(head.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1))
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
            return b"".join(chunks)
    except OSError:
        return b""


def get(port: int, path: str, *headers: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *headers]
    return raw_request(port, ("\r\n".join(lines) + "\r\n\r\n").encode())


def status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def test_it_serves_the_api_over_the_proxy_with_hsts_and_redirects_plain_http(gunicorn):
    answer = get(gunicorn, "/api/devices/", "X-Forwarded-Proto: https")
    assert status(answer) == 200
    assert b"Strict-Transport-Security: max-age=31536000; includeSubDomains; preload" in answer
    assert status(get(gunicorn, "/api/devices/")) == 301
    assert status(get(gunicorn, "/api/health/")) == 200  # probes may use plain HTTP


def test_a_client_stalled_half_way_holds_the_only_worker_no_longer_than_the_timeout(gunicorn):
    stalled = socket.create_connection(("127.0.0.1", gunicorn))
    stalled.sendall(b"GET /api/config/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line
    time.sleep(0.3)
    started = time.monotonic()
    answer = get(gunicorn, "/api/config/", "X-Forwarded-Proto: https")
    waited = time.monotonic() - started
    assert status(answer) == 200
    assert waited < WORKER_TIMEOUT + 8, f"the request behind a stalled client waited {waited:.1f} s"
    stalled.settimeout(5)
    cut_off = stalled.recv(1024)  # the worker holding it was replaced: closed, or told 500
    assert cut_off == b"" or cut_off.startswith(b"HTTP/1.1 500")
    stalled.close()


def test_the_api_answers_an_overlong_query_string_with_its_own_414(gunicorn):
    answer = get(gunicorn, "/api/devices/?status=" + "x" * 5000, "X-Forwarded-Proto: https")
    assert status(answer) == 414
    assert b'{"error": "query string longer than 4096 bytes"}' in answer


def test_gunicorn_refuses_an_oversized_request_head_before_django(gunicorn):
    assert status(get(gunicorn, "/api/devices/?q=" + "x" * 9000)) in (400, 414)
    flood = [f"X-Filler-{n}: {n}" for n in range(150)]
    assert status(get(gunicorn, "/api/devices/", *flood)) in (400, 431)
