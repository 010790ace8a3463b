"""The delivery drain as a thread of the alert worker (`process_tasks`), with its own database connection."""
import logging
import threading

from notifications.drain import DeliveryDrain

log = logging.getLogger("notifications")

RESTART_SECONDS = 5.0


class NotificationThread:
    """Starts the drain beside the worker's main loop and stops it within the send timeout."""

    def __init__(self) -> None:
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="notifications", daemon=True)

    def start(self) -> "NotificationThread":
        self.thread.start()
        return self

    def stop(self, timeout: float) -> None:
        """Stop claiming, let the sends in flight finish (at most `timeout` s)."""
        self.stop_event.set()
        self.thread.join(timeout)
        if self.thread.is_alive():
            log.warning("the notification drain did not stop within %.0f s", timeout)

    def _run(self) -> None:
        while not self.stop_event.is_set():
            try:
                DeliveryDrain().run(self.stop_event)
            except Exception:
                # The alert pass goes on whatever happens here; the traceback says what to fix.
                log.exception("the notification drain failed; restarting it in %.0f s", RESTART_SECONDS)
                self.stop_event.wait(RESTART_SECONDS)
