"""Gunicorn in production, from backend/: `gunicorn -c config/gunicorn.conf.py config.wsgi`.

`manage.py runserver` is for development only: a thread per connection that waits on
a slow client forever, and no limits on request lines or headers.

Sync workers, because of slow clients: a worker that has not finished its request
within `timeout` seconds is killed and replaced, so a client that stalls half-way
through its request holds one worker for at most that long. (gthread workers wait on a
stalled client without a limit; the API's requests take milliseconds, so threads buy
nothing here.) Put a buffering reverse proxy (nginx, Caddy) in front as well: it
terminates TLS and takes the slow clients off the workers entirely.
"""
import os
from pathlib import Path


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name}={raw!r} must be a positive integer")
    return int(raw)


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "sync"
workers = _int("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1) + 1)
# Seconds a worker may spend on one request, slow client included, before it is replaced.
timeout = _int("GUNICORN_TIMEOUT", 20)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 20)

# Request-head bounds. The line leaves room for the API's own 4 KiB query-string bound
# (MAX_QUERY_STRING_BYTES), which answers with the API's error shape.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

# Replace each worker after a few thousand requests, so slow growth in memory is bounded.
max_requests = _int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = max_requests // 10

accesslog = "-"
errorlog = "-"
# No control socket in the home directory, which a container may not have.
control_socket_disable = True

# prometheus_client's multiprocess mode (docs/monitoring.md): with PROMETHEUS_MULTIPROC_DIR
# set, every worker keeps its metrics in files there and the web's /metrics sums them over
# the workers, so a scrape counts every request whichever worker answers it.
metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()


def on_starting(server):
    """Empty the metrics folder: files of an earlier run would be added to this run's counts."""
    if metrics_dir:
        Path(metrics_dir).mkdir(parents=True, exist_ok=True)
        for stale in Path(metrics_dir).glob("*.db"):
            stale.unlink()


def child_exit(server, worker):
    """A dead worker's live gauges leave the sums; its counters stay in them, as they must."""
    if metrics_dir:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
