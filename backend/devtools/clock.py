"""A monotonic clock a test moves by hand, for code that takes its clock as a parameter."""


class FakeClock:
    """Returns `now` when called; a test advances it with `clock.now += seconds`."""

    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now
