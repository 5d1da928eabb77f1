"""Counting a space's audience from the audio its players fetch, with no per-listener state.

Every player that keeps up with a live space fetches each segment's media once: either the
segment itself (``seg{n}.m4s``: ffmpeg, VLC, Safari's native player far from the edge) or
its parts, the first of which is ``part{n}.0.m4s`` (hls.js and other low-latency players).
So the number of such *first-of-a-segment* requests in a window, divided by the number of
segments the window spans, is the number of players. No identity is needed, so it works
for people signed out, through any cache (the edge counts what it answers, not what it asks
the origin), and for players that are not the web app; it costs a counter increment per
request and a few integers per space, whatever the audience.

How wrong it can be, for a steady audience: a player fetching both a segment and its parts
counts twice (hls.js does not; a player that does is rare); a player catching up after a
stall fetches faster than real time for a moment and counts more than once; one that joins
or leaves mid-window counts a fraction. With 10 s windows these are a few percent at most.
A new audience shows after about a segment; one that leaves is gone after one window.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

#: Media names that mark "one segment's worth of audio fetched by one player".
_COUNTED = re.compile(r"^(?:seg\d+|part\d+\.0)\.m4s$")


def counts_a_listener(name: str) -> bool:
    """Whether an LL-HLS request for ``name`` is one player's fetch of one segment's audio."""
    return _COUNTED.match(name) is not None


#: Requests counted one at a time (the origin's own) are grouped into batches this long.
BATCH_SECONDS = 1.0


@dataclass(slots=True)
class _Batch:
    at: float  # when it ended
    count: float
    seconds: float  # how long it covers


@dataclass(slots=True)
class _Source:
    """One place that counts requests: the origin itself, or one edge (which reports)."""

    batches: deque[_Batch] = field(default_factory=deque)
    open_count: float = 0.0
    open_since: float | None = None

    def close_open(self, now: float) -> None:
        if self.open_since is not None and now - self.open_since >= BATCH_SECONDS:
            self.batches.append(_Batch(now, self.open_count, now - self.open_since))
            self.open_count, self.open_since = 0.0, now

    def rate(self, now: float, window: float, least: float) -> float:
        """Counted requests per second over the last ``window`` (0 under ``least`` seconds)."""
        self.close_open(now)
        while self.batches and self.batches[0].at < now - window:
            self.batches.popleft()
        count = sum(b.count for b in self.batches)
        seconds = sum(b.seconds for b in self.batches)
        if self.open_since is not None:
            count += self.open_count
            seconds += now - self.open_since
        return count / seconds if seconds >= least else 0.0


@dataclass
class ListenerEstimate:
    """Players per space from counted requests; time is passed in.

    Each source (the origin counting requests one by one, or an edge reporting how many it
    answered over how many seconds) gives a rate over the last ``window_seconds``; players
    are the sum of the rates times the segment's duration. Rates, not counts per window, so
    an edge's reports never fall unevenly into windows, and a new audience shows as soon as
    a segment's worth of time has been counted. A source that stops counts nothing after one
    window.
    """

    segment_seconds: float
    window_seconds: float = 10.0
    _spaces: dict[str, dict[str, _Source]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.segment_seconds <= 0 or self.window_seconds < self.segment_seconds:
            raise ValueError("a window spans at least one segment")

    def saw(
        self,
        space_id: str,
        *,
        now: float,
        count: float = 1.0,
        seconds: float | None = None,
        source: str = "origin",
    ) -> None:
        """``count`` requests: seen now (``seconds`` None), or reported as covering the last
        ``seconds``."""
        found = self._spaces.setdefault(space_id, {}).setdefault(source, _Source())
        if seconds is None:
            if found.open_since is None:
                found.open_since = now
            found.close_open(now)
            found.open_count += count
        elif seconds > 0:
            found.batches.append(_Batch(now, count, seconds))

    def estimate(self, space_id: str, *, now: float) -> int:
        sources = self._spaces.get(space_id, {})
        rate = sum(
            s.rate(now, self.window_seconds, least=self.segment_seconds) for s in sources.values()
        )
        return round(rate * self.segment_seconds)

    def forget(self, space_id: str) -> None:
        self._spaces.pop(space_id, None)

    def spaces(self) -> list[str]:
        return list(self._spaces)


def audience_size(*, joined_listeners: int, players: int) -> int:
    """The audience shown: listeners not on the stage.

    Joined listeners are signed-in people in the space (not on its stage); players are the
    estimate above. Most joined listeners are also players, and many players (signed out,
    through a CDN, ffmpeg) never join, so neither count contains the other: the larger one
    is the best single figure, and never counts the stage.
    """
    return max(joined_listeners, players)
