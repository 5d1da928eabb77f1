"""Audio levels and who is speaking.

Pure functions and a small state machine fed explicit times, so active-speaker detection is
tested with plain calls (as LiveKit does) and the mixer clock stays the only clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from salon.media.pcm import Pcm

#: The level reported for digital silence (and for muted or missing inputs). A finite number,
#: not -inf, so levels survive JSON and comparisons stay simple.
FLOOR_DBFS = -127.0

#: Full scale for int16: a square wave at ±32768 would be 0 dBFS, a full-scale sine ≈ -3 dBFS.
FULL_SCALE = 32768.0

DEFAULT_THRESHOLD_DBFS = -45.0
DEFAULT_HOLD_SECONDS = 0.4
DEFAULT_MIN_INTERVAL_SECONDS = 0.25


def dbfs_from_mean_square(mean_square: float) -> float:
    """RMS level in dBFS from a mean of squared samples; the mixer computes those in bulk."""
    if mean_square <= 0.0:
        return FLOOR_DBFS
    return max(FLOOR_DBFS, 10.0 * math.log10(mean_square / (FULL_SCALE * FULL_SCALE)))


def level_dbfs(pcm: Pcm) -> float:
    """RMS of ``pcm`` relative to full scale, in dBFS; FLOOR_DBFS for silence or no samples."""
    if pcm.size == 0:
        return FLOOR_DBFS
    samples = pcm.astype(np.float64).reshape(-1)
    return dbfs_from_mean_square(float(np.dot(samples, samples)) / samples.size)


class ActiveSpeakers:
    """Turns per-frame levels into the set of people speaking, reported only on change.

    Someone starts speaking on the first update where their level is above ``threshold_dbfs``
    and stops once it has stayed at or below it for ``hold`` seconds: the hold is the
    hysteresis that keeps a gap between words from flickering the indicator off and on.
    A change is reported at most once per ``min_interval`` seconds; a change that arrives
    sooner is not lost, it is reported by the first update after the interval has passed.

    An id missing from an update's ``levels`` has left the mix (its input was removed) and
    stops speaking at once, without a hold. ``now`` must not go backwards (pass a monotonic
    clock, e.g. the event loop's time).
    """

    def __init__(
        self,
        *,
        threshold_dbfs: float = DEFAULT_THRESHOLD_DBFS,
        hold: float = DEFAULT_HOLD_SECONDS,
        min_interval: float = DEFAULT_MIN_INTERVAL_SECONDS,
    ) -> None:
        if hold < 0 or min_interval < 0:
            raise ValueError(f"hold ({hold}) and min_interval ({min_interval}) must be >= 0")
        self.threshold_dbfs = threshold_dbfs
        self.hold = hold
        self.min_interval = min_interval
        self._last_loud: dict[int, float] = {}
        self._reported: frozenset[int] = frozenset()
        self._reported_at = -math.inf

    @property
    def speaking(self) -> frozenset[int]:
        """The set most recently reported (empty before the first report)."""
        return self._reported

    def update(self, levels: Mapping[int, float], now: float) -> frozenset[int] | None:
        """Feed one frame's levels; returns the new speaking set if it changed, else None."""
        last_loud = self._last_loud
        for gone in last_loud.keys() - levels.keys():
            del last_loud[gone]
        for input_id, level in levels.items():
            if level > self.threshold_dbfs:
                last_loud[input_id] = now
        current = frozenset(i for i, t in last_loud.items() if now - t < self.hold or t == now)
        if current == self._reported or now - self._reported_at < self.min_interval:
            return None
        self._reported = current
        self._reported_at = now
        return current
