"""Logging for processes that outlive a failing dependency: one line when an outage starts, one when it ends."""
import logging
import time
from collections.abc import Callable


class OutageLog:
    """Logs the first failure of an outage and the recovery, and nothing in between.

    A long-running process retries a failing database every second or so; logging every
    attempt would bury the one line that says when it started. The caller still decides
    how to survive (close the connection, keep the batch, back off).
    """

    def __init__(
        self,
        logger: logging.Logger,
        *,
        failed: str,
        recovered: str | None = None,
        level: int = logging.WARNING,
        traceback: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.failed_message = failed
        self.recovered_message = recovered
        self.level = level
        self.traceback = traceback
        self.clock = clock
        self.failing_since: float | None = None

    @property
    def failing(self) -> bool:
        """Whether the last attempt failed."""
        return self.failing_since is not None

    def failure(self, error: BaseException) -> bool:
        """Note a failed attempt; log it only when it starts an outage, and then return True."""
        if self.failing_since is not None:
            return False
        self.failing_since = self.clock()
        self.logger.log(self.level, "%s: %s", self.failed_message, error, exc_info=error if self.traceback else None)
        return True

    def success(self) -> float | None:
        """Note a successful attempt; after an outage log its end and return how long it lasted (seconds)."""
        if self.failing_since is None:
            return None
        lasted = self.clock() - self.failing_since
        self.failing_since = None
        if self.recovered_message is not None:
            self.logger.info("%s after %.1f s", self.recovered_message, lasted)
        return lasted
