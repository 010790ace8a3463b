"""Resident memory of a process and its children (the ingest and its writer), sampled while it works."""
import threading

import psutil


def family_rss(pid: int) -> int:
    """Resident bytes of a process and its children."""
    parent = psutil.Process(pid)
    total = 0
    for member in [parent, *parent.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            pass
    return total


class RssSampler(threading.Thread):
    """Samples `family_rss(pid)` every `interval` seconds from start() until peak_mb()."""

    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.samples: list[int] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                self.samples.append(family_rss(self.pid))
            except psutil.Error:
                return
            self.halt.wait(self.interval)

    def peak_mb(self) -> float:
        """Stop sampling; the largest sample in MiB."""
        self.halt.set()
        self.join()
        return max(self.samples) / 2**20
