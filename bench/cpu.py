"""CPU time of processes over a measured window (psutil's user + system seconds)."""
import psutil


def cpu_seconds(processes: list[psutil.Process]) -> dict[int, float]:
    """user + system seconds of each process still alive, by pid."""
    seconds = {}
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        seconds[process.pid] = times.user + times.system
    return seconds


def used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two snapshots (a process new since `before` counts from zero)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def with_children(pids: list[int]) -> list[psutil.Process]:
    """The processes `pids` and all their descendants still alive."""
    found = []
    for pid in pids:
        try:
            process = psutil.Process(pid)
            found += [process, *process.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
    return found
