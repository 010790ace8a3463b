"""The worker runs beside its loop the threads that the apps above alerts registered."""
from alerts import worker_threads
from notifications.worker import NotificationThread


class Recorder:
    started: list[str] = []

    def __init__(self, name: str):
        self.name = name

    def start(self) -> "Recorder":
        Recorder.started.append(self.name)
        return self

    def stop(self, timeout: float) -> None:
        pass


def test_the_notifications_app_registers_its_drain():
    assert worker_threads._factories["notifications.drain"] is NotificationThread


def test_threads_start_in_the_order_registered_and_a_name_registered_again_is_replaced(monkeypatch):
    monkeypatch.setattr(worker_threads, "_factories", {})
    Recorder.started = []
    worker_threads.worker_thread_register("first", lambda: Recorder("first"))
    worker_threads.worker_thread_register("second", lambda: Recorder("second"))
    worker_threads.worker_thread_register("first", lambda: Recorder("first again"))
    assert [thread.name for thread in worker_threads.worker_threads_start()] == ["first again", "second"]
    assert Recorder.started == ["first again", "second"]
