"""The worker's delivery loop: claims due deliveries and sends them from a small pool of threads.

It runs in a thread of its own inside `process_tasks` (notifications.worker), so the
alert pass in the main thread never waits for a receiver. At most NOTIFY_CONCURRENCY
deliveries are in flight, never two to the same subscription: a dead or slow endpoint
holds one slot for at most NOTIFY_WEBHOOK_TIMEOUT_SECONDS while the others go on, and
each of its deliveries then backs off on its own.
"""
import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from common.outages import OutageLog
from notifications import bodies
from notifications.delivery import EmailRequest, Outcome, WebhookRequest, email_send, webhook_post
from notifications.models import Delivery
from notifications.selectors import deliveries_due
from notifications.services import (
    PRUNE_BATCH_ROWS,
    delivery_attempt_failed,
    delivery_claim,
    delivery_succeeded,
    deliveries_expire,
    deliveries_prune,
)

log = logging.getLogger("notifications")

# An idle drain looks for due deliveries this often: the bulk of the enqueue-to-POST delay.
POLL_SECONDS = 0.5
# Expiring stale pending deliveries and pruning the log.
EXPIRE_EVERY_SECONDS = 60.0


class DeliveryDrain:
    """Claims, sends and records deliveries; `run` until a stop event, or `run_until_idle` in tests."""

    def __init__(self, *, concurrency: int | None = None, timeout: float | None = None,
                 poll_seconds: float = POLL_SECONDS) -> None:
        self.concurrency = concurrency or settings.NOTIFY_CONCURRENCY
        self.timeout = timeout or settings.NOTIFY_WEBHOOK_TIMEOUT_SECONDS
        self.poll_seconds = poll_seconds
        self.pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="notify-send")
        self.in_flight: dict[Future, Delivery] = {}
        # Outcomes whose write failed (database down): written again before anything else.
        self.unrecorded: list[tuple[Delivery, Outcome]] = []
        self.next_expiry = time.monotonic()
        self.outage = OutageLog(log, failed="the notification drain cannot use the database; it keeps retrying",
                                recovered="the notification drain works again")

    def run(self, stop: threading.Event) -> None:
        """Deliver until `stop` is set, then wait (bounded by the send timeout) for the sends in flight."""
        try:
            while not stop.is_set():
                started = self.step()
                if self.in_flight:
                    self.collect(timeout=self.poll_seconds)
                elif not started:
                    stop.wait(self.poll_seconds)
            self.collect_all(timeout=self.timeout + 1)
        finally:
            self.pool.shutdown(wait=False, cancel_futures=True)
            connection.close()

    def run_until_idle(self, timeout: float = 10.0) -> None:
        """Deliver until nothing is due or in flight (tests; retries that are not yet due are left)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            started = self.step()
            if not started and not self.in_flight and not self.unrecorded:
                return
            self.collect(timeout=self.poll_seconds)
        raise TimeoutError(f"deliveries still due or in flight after {timeout} s")

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    def step(self) -> int:
        """Write pending outcomes, expire old deliveries, claim due ones into free slots; return how many started."""
        try:
            self._record_pending()
            self._expire_if_due()
            started = self._claim_and_send()
        except DatabaseError as error:
            self.outage.failure(error)
            connection.close()
            return 0
        self.outage.success()
        return started

    def collect(self, *, timeout: float) -> int:
        """Wait up to `timeout` for the first sends in flight to finish, and record them."""
        if not self.in_flight:
            return 0
        done, _ = wait(list(self.in_flight), timeout=timeout, return_when=FIRST_COMPLETED)
        for future in done:
            delivery = self.in_flight.pop(future)
            self.unrecorded.append((delivery, future.result()))
        try:
            self._record_pending()
        except DatabaseError as error:
            self.outage.failure(error)
            connection.close()
        return len(done)

    def collect_all(self, *, timeout: float) -> None:
        """Wait for every send in flight (at most `timeout`) and record what finished."""
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            self.collect(timeout=max(0.0, deadline - time.monotonic()))
        if self.in_flight:
            log.warning("stopping with %d deliveries in flight; their leases expire and they are sent again",
                        len(self.in_flight))

    def _claim_and_send(self) -> int:
        free = self.concurrency - len(self.in_flight)
        if free <= 0:
            return 0
        busy = {_endpoint(delivery) for delivery in self.in_flight.values()}
        now = timezone.now()
        candidates = deliveries_due(
            now=now, limit=free * 4,
            busy_webhooks=[key for kind, key in busy if kind == "webhook"],
            busy_emails=[key for kind, key in busy if kind == "email"],
        ).select_related("alert__device", "webhook", "email")
        started = 0
        for delivery in candidates:
            if started == free:
                break
            if _endpoint(delivery) in busy or not delivery_claim(delivery.pk, now=now):
                continue
            busy.add(_endpoint(delivery))
            try:
                send = self._prepare(delivery)
            except Exception as error:  # noqa: BLE001 - a body that cannot be built is a failed attempt
                log.exception("could not prepare delivery %s", delivery.pk)
                self.unrecorded.append((delivery, Outcome(ok=False, error=f"{type(error).__name__}: {error}")))
                continue
            self.in_flight[self.pool.submit(send)] = delivery
            started += 1
        return started

    def _prepare(self, delivery: Delivery):
        if delivery.webhook_id:
            hook = delivery.webhook
            request = WebhookRequest(delivery_id=str(delivery.uuid), url=hook.url, secret=hook.secret,
                                     body=bodies.webhook_body(delivery.alert, delivery.event, hook.body_format))
            return lambda: webhook_post(request, timeout=self.timeout)
        subject, body = bodies.email_message(delivery.alert, delivery.event)
        request = EmailRequest(subject=subject, body=body, recipients=tuple(delivery.email.recipients))
        return lambda: email_send(request)

    def _record_pending(self) -> None:
        while self.unrecorded:
            delivery, outcome = self.unrecorded[0]
            self._record(delivery, outcome)
            self.unrecorded.pop(0)

    def _record(self, delivery: Delivery, outcome: Outcome) -> None:
        if outcome.ok:
            delivery_succeeded(delivery.pk, status_code=outcome.status_code)
            log.debug("delivered %s to %s", delivery.alert, delivery.subscription)
            return
        status = delivery_attempt_failed(delivery, error=outcome.error, status_code=outcome.status_code)
        if status == Delivery.Status.FAILED:
            log.error("gave up delivering %s %s to %r (subscription %s) after %d attempts: %s", delivery.alert,
                      delivery.event, str(delivery.subscription), delivery.subscription.pk, delivery.attempts + 1,
                      outcome.error)
        else:
            log.warning("delivery %s of %s to %r failed (attempt %d, retried later): %s", delivery.pk,
                        delivery.alert, str(delivery.subscription), delivery.attempts + 1, outcome.error)

    def _expire_if_due(self) -> None:
        if time.monotonic() < self.next_expiry:
            return
        self.next_expiry = time.monotonic() + EXPIRE_EVERY_SECONDS
        now = timezone.now()
        expired = deliveries_expire(now=now)
        if expired:
            log.error("%d deliveries were still pending after NOTIFY_RETRY_HOURS and are marked failed", expired)
        pruned = deliveries_prune(now=now, retention_days=settings.NOTIFY_LOG_RETENTION_DAYS)
        if pruned == PRUNE_BATCH_ROWS:
            self.next_expiry = time.monotonic()  # more are left: go on at the next turn
        if pruned:
            log.info("pruned %d deliveries older than the %d-day log retention", pruned,
                     settings.NOTIFY_LOG_RETENTION_DAYS)


def _endpoint(delivery: Delivery) -> tuple[str, int]:
    return ("webhook", delivery.webhook_id) if delivery.webhook_id else ("email", delivery.email_id)
