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
The estimate lags a change by one window (it reads the last complete window).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

#: Media names that mark "one segment's worth of audio fetched by one player".
_COUNTED = re.compile(r"^(?:seg\d+|part\d+\.0)\.m4s$")


def counts_a_listener(name: str) -> bool:
    """Whether an LL-HLS request for ``name`` is one player's fetch of one segment's audio."""
    return _COUNTED.match(name) is not None


@dataclass
class _Windows:
    start: float
    current: float = 0.0
    previous: float | None = None


@dataclass
class ListenerEstimate:
    """Players per space from counted requests, in fixed windows; time is passed in.

    ``saw`` adds requests (``count`` of them, e.g. a batch an edge reports); ``estimate``
    reads the last complete window. A space whose requests stop reads 0 after two windows.
    """

    segment_seconds: float
    window_seconds: float = 10.0
    _spaces: dict[str, _Windows] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.segment_seconds <= 0 or self.window_seconds < self.segment_seconds:
            raise ValueError("a window spans at least one segment")

    def saw(self, space_id: str, *, now: float, count: float = 1.0) -> None:
        windows = self._spaces.get(space_id)
        if windows is None:
            windows = self._spaces[space_id] = _Windows(start=now)
        self._roll(windows, now)
        windows.current += count

    def estimate(self, space_id: str, *, now: float) -> int:
        windows = self._spaces.get(space_id)
        if windows is None:
            return 0
        self._roll(windows, now)
        if windows.previous is None:
            # The first window is still filling: extrapolate from what it has seen so far,
            # so a new audience shows within seconds rather than a whole window.
            elapsed = now - windows.start
            if elapsed < self.segment_seconds:
                return 0
            return round(windows.current * self.segment_seconds / elapsed)
        return round(windows.previous * self.segment_seconds / self.window_seconds)

    def forget(self, space_id: str) -> None:
        self._spaces.pop(space_id, None)

    def spaces(self) -> list[str]:
        return list(self._spaces)

    def _roll(self, windows: _Windows, now: float) -> None:
        elapsed = now - windows.start
        if elapsed < self.window_seconds:
            return
        passed = math.floor(elapsed / self.window_seconds)
        # One window passed: the current one is complete. More: the last complete was empty.
        windows.previous = windows.current if passed == 1 else 0.0
        windows.current = 0.0
        windows.start += passed * self.window_seconds


def audience_size(*, joined_listeners: int, players: int) -> int:
    """The audience shown: listeners not on the stage.

    Joined listeners are signed-in people in the space (not on its stage); players are the
    estimate above. Most joined listeners are also players, and many players (signed out,
    through a CDN, ffmpeg) never join, so neither count contains the other: the larger one
    is the best single figure, and never counts the stage.
    """
    return max(joined_listeners, players)
