"""Reactions: the fixed emoji set and the per-person rate limit."""

from __future__ import annotations

from collections import Counter, deque
from enum import StrEnum

from salon.domain.errors import Invalid, RateLimited


class Emoji(StrEnum):
    LAUGH = "😂"
    WOW = "😲"
    SAD = "😢"
    HEART = "💜"
    HUNDRED = "💯"
    CLAP = "👏"
    FIST = "✊"
    THUMBS_UP = "👍"
    THUMBS_DOWN = "👎"
    WAVE = "👋"


def parse_emoji(value: str) -> Emoji:
    try:
        return Emoji(value)
    except ValueError:
        allowed = " ".join(e.value for e in Emoji)
        raise Invalid(f"a reaction is one of {allowed}") from None


class SlidingWindowLimiter:
    """At most ``limit`` hits per key in any ``window`` seconds; time is passed in.

    Memory is bounded by the keys seen within one window: stale keys are dropped on use.
    """

    def __init__(self, *, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str, *, now: float) -> None:
        """Record a hit for ``key`` at ``now`` or raise RateLimited with the wait."""
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            retry_after = hits[0] + self.window - now
            raise RateLimited(
                f"at most {self.limit} reactions every {self.window:g} seconds",
                retry_after=max(retry_after, 0.0),
            )
        hits.append(now)
        if len(self._hits) > 10_000:
            self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, h in self._hits.items() if not h or h[-1] <= now - self.window]:
            del self._hits[key]


class ReactionTally:
    """Reactions counted per emoji per space until drained: what a large audience sends.

    Above the aggregation threshold, who reacted stops mattering to anyone watching a crowd,
    and one event per reaction would cost every listener's connection. The tally turns them
    into one burst per space per window (``drain``, called on a timer).
    """

    def __init__(self) -> None:
        self._counts: dict[str, Counter[Emoji]] = {}

    def add(self, space_id: str, emoji: Emoji) -> None:
        self._counts.setdefault(space_id, Counter())[emoji] += 1

    def drain(self) -> dict[str, dict[Emoji, int]]:
        """Every space's counts since the last drain (spaces with none are left out)."""
        counts, self._counts = self._counts, {}
        return {space: dict(tally) for space, tally in counts.items() if tally}
