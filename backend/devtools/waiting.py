"""Polling for a condition in tests, instead of fixed sleeps."""
import time


def wait_until(condition, timeout: float = 10.0, interval: float = 0.05, message: str = ""):
    """Return the first truthy value of `condition()`, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message or f"condition not met within {timeout} s")
        time.sleep(interval)
