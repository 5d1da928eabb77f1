"""How a bot waits between attempts, and when it stops trying (pure: a clock is passed in)."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]

#: The first wait after a failure, and the longest: 0.5 s, 1 s, 2 s, 4 s, then 5 s.
FIRST_WAIT = 0.5
LONGEST_WAIT = 5.0


class Backoff:
    """The wait before each next attempt, doubling from ``first`` up to ``longest``."""

    def __init__(self, first: float = FIRST_WAIT, longest: float = LONGEST_WAIT) -> None:
        if not 0 < first <= longest:
            raise ValueError("the first wait must be positive and at most the longest")
        self.first = first
        self.longest = longest
        self._failures = 0

    def next(self) -> float:
        """The wait before the next attempt (each call counts one more failure)."""
        wait = min(self.first * 2.0**self._failures, self.longest)
        self._failures += 1
        return wait

    def reset(self) -> None:
        """Something worked: the next failure waits ``first`` again."""
        self._failures = 0


class Patience:
    """How long a bot has gone without anything working; it gives up after ``seconds``."""

    def __init__(self, seconds: float, clock: Clock = time.monotonic) -> None:
        if seconds <= 0:
            raise ValueError("patience must be positive")
        self.seconds = seconds
        self._clock = clock
        self._since = clock()

    def ok(self) -> None:
        """Something worked just now: the count starts again."""
        self._since = self._clock()

    @property
    def waited(self) -> float:
        return self._clock() - self._since

    @property
    def exhausted(self) -> bool:
        return self.waited >= self.seconds
