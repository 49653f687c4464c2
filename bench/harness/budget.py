"""The suite's time budget: one deadline, and every step asks how long it may still take."""

import time


class OutOfTime(Exception):
    """Too little of the budget is left for the step that asked."""


class Budget:
    def __init__(self, seconds):
        self.deadline = time.monotonic() + seconds

    def remaining(self):
        return self.deadline - time.monotonic()

    def allow(self, wanted, *, at_least=1.0):
        """Seconds a step may take: what it wants, capped by what is left; OutOfTime below `at_least`."""
        allowed = min(wanted, self.remaining())
        if allowed < at_least:
            raise OutOfTime(f"{self.remaining():.0f} s left, a step needs {at_least:.0f} s")
        return allowed
