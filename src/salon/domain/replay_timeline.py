"""A recording's timeline: where a wall-clock moment falls in its recorded audio.

A recording is stretches of audio (one per media run, each starting at a known wall-clock
time, its program date-time) laid end to end: the time between runs (a restart, a move to
another node) was never recorded, so the replay skips it. Moments that fall in such a gap,
or before or after the recording, have no place on it. Pure: plain values in and out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

#: Stretches closer than this (in seconds) are one stretch: segment durations are rounded.
_JOIN = 0.05


@dataclass(frozen=True, slots=True)
class RunStart:
    """A media run's first segment and the wall-clock moment its audio began."""

    first_msn: int
    at: datetime


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of recorded audio: it began at ``wall_start`` and plays from ``offset``
    seconds into the replay for ``duration`` seconds."""

    wall_start: datetime
    offset: float
    duration: float

    @property
    def wall_end(self) -> datetime:
        return self.wall_start + timedelta(seconds=self.duration)


@dataclass(frozen=True, slots=True)
class Interval:
    """Someone speaking from ``start`` to ``end``: wall-clock moments or replay seconds."""

    user_id: int
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class WallInterval:
    user_id: int
    start: datetime
    end: datetime


def build_timeline(
    segments: Iterable[tuple[int, float]], runs: Sequence[RunStart], segment_seconds: float
) -> list[Span]:
    """The spans of a recording from its segments (``(msn, seconds)``, in order) and its runs.

    A segment belongs to the latest run starting at or before it and began
    ``(msn - first_msn) * segment_seconds`` after that run's start. Segments before every
    run (none known) are left off the timeline but still take their place in the audio.
    """
    ordered = sorted(runs, key=lambda run: run.first_msn)
    spans: list[Span] = []
    offset = 0.0
    for msn, seconds in segments:
        run = next((r for r in reversed(ordered) if r.first_msn <= msn), None)
        if run is not None:
            start = run.at + timedelta(seconds=(msn - run.first_msn) * segment_seconds)
            last = spans[-1] if spans else None
            if (
                last is not None
                and abs(last.offset + last.duration - offset) < _JOIN
                and abs((start - last.wall_end).total_seconds()) < _JOIN
            ):
                spans[-1] = Span(last.wall_start, last.offset, last.duration + seconds)
            else:
                spans.append(Span(start, offset, seconds))
        offset += seconds
    return spans


def to_offset(spans: Sequence[Span], at: datetime) -> float | None:
    """Seconds into the replay where the moment ``at`` was recorded, or None (not recorded:
    before, after, or in a gap)."""
    for span in spans:
        into = (at - span.wall_start).total_seconds()
        if 0 <= into < span.duration:
            return span.offset + into
    return None


def to_offsets(spans: Sequence[Span], start: datetime, end: datetime) -> list[tuple[float, float]]:
    """The parts of the wall-clock interval ``[start, end)`` that were recorded, as replay
    seconds; pieces that meet across a gap are joined (the replay plays them back to back)."""
    pieces: list[tuple[float, float]] = []
    for span in spans:
        lo = max(start, span.wall_start)
        hi = min(end, span.wall_end)
        if hi <= lo:
            continue
        a = span.offset + (lo - span.wall_start).total_seconds()
        b = span.offset + (hi - span.wall_start).total_seconds()
        if pieces and abs(pieces[-1][1] - a) < 1e-6:
            pieces[-1] = (pieces[-1][0], b)
        else:
            pieces.append((a, b))
    return pieces


def speaking_intervals(
    changes: Sequence[tuple[datetime, frozenset[int]]], end: datetime
) -> list[WallInterval]:
    """Who spoke when, from the successive sets of people speaking (each from its moment
    until the next change); whoever still speaks at the last change stops at ``end``."""
    open_since: dict[int, datetime] = {}
    found: list[WallInterval] = []
    for at, speaking in sorted(changes, key=lambda change: change[0]):
        for user_id in [u for u in open_since if u not in speaking]:
            found.append(WallInterval(user_id, open_since.pop(user_id), at))
        for user_id in speaking:
            open_since.setdefault(user_id, at)
    for user_id, since in open_since.items():
        if end > since:
            found.append(WallInterval(user_id, since, end))
    return sorted(found, key=lambda interval: (interval.start, interval.user_id))


def replay_intervals(spans: Sequence[Span], spoken: Iterable[WallInterval]) -> list[Interval]:
    """Speaking intervals on the replay's timeline (gaps skipped, unrecorded parts dropped)."""
    mapped = [
        Interval(interval.user_id, round(a, 3), round(b, 3))
        for interval in spoken
        for a, b in to_offsets(spans, interval.start, interval.end)
    ]
    return sorted(mapped, key=lambda interval: (interval.start, interval.user_id))
