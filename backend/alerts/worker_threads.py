"""Threads that run beside the alert worker's loop (`process_tasks`), registered by the apps above alerts.

The worker starts each registered thread before its first pass and stops them after
its last, so an app such as notifications runs in the worker without alerts importing it.
"""
from collections.abc import Callable
from typing import Protocol


class WorkerThread(Protocol):
    def start(self) -> "WorkerThread":
        """Start the thread; return it."""

    def stop(self, timeout: float) -> None:
        """Stop it within `timeout` seconds."""


_factories: dict[str, Callable[[], WorkerThread]] = {}


def worker_thread_register(name: str, factory: Callable[[], WorkerThread]) -> None:
    """Run a thread made by `factory` in every worker started from now on (a name registered again is replaced)."""
    _factories[name] = factory


def worker_threads_start() -> list[WorkerThread]:
    """Make and start every registered thread, in the order they were registered."""
    return [factory().start() for factory in _factories.values()]
