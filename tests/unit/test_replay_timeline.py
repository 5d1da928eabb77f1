"""A recording's timeline: wall-clock moments onto replay seconds, gaps skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from salon.domain.replay_timeline import (
    Interval,
    RunStart,
    Span,
    WallInterval,
    build_timeline,
    replay_intervals,
    speaking_intervals,
    to_offset,
    to_offsets,
)

T0 = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def two_runs() -> list[Span]:
    """Run one: msn 10-19 from T0 (10 s). The node dies; run two starts at msn 40, 32 s after
    T0, and records msn 40-44 (5 s). The replay is 15 s long with the 22 s gap cut out."""
    segments = [(msn, 1.0) for msn in range(10, 20)] + [(msn, 1.0) for msn in range(40, 45)]
    runs = [RunStart(first_msn=10, at=at(0)), RunStart(first_msn=40, at=at(32))]
    return build_timeline(segments, runs, segment_seconds=1.0)


def test_each_run_is_one_span_laid_end_to_end() -> None:
    assert two_runs() == [Span(at(0), 0.0, 10.0), Span(at(32), 10.0, 5.0)]


def test_moments_map_into_their_run_and_skip_the_gap() -> None:
    spans = two_runs()
    assert to_offset(spans, at(0)) == 0.0
    assert to_offset(spans, at(9.5)) == pytest.approx(9.5)
    assert to_offset(spans, at(33)) == pytest.approx(11.0)  # 22 s of gap skipped


def test_moments_outside_the_recording_have_no_place() -> None:
    spans = two_runs()
    assert to_offset(spans, at(-0.001)) is None  # before it began
    assert to_offset(spans, at(20)) is None  # in the gap
    assert to_offset(spans, at(37)) is None  # after it ended
    assert to_offset([], at(1)) is None


def test_an_interval_is_clipped_to_what_was_recorded_and_joined_across_the_gap() -> None:
    spans = two_runs()
    assert to_offsets(spans, at(8), at(34)) == [(8.0, 12.0)]
    assert to_offsets(spans, at(-5), at(2)) == [(0.0, 2.0)]
    assert to_offsets(spans, at(12), at(30)) == []  # wholly in the gap


def test_a_missing_segment_inside_a_run_leaves_a_hole_in_the_wall_clock() -> None:
    segments = [(0, 1.0), (1, 1.0), (3, 1.0)]  # seg 2 was damaged
    spans = build_timeline(segments, [RunStart(0, at(0))], segment_seconds=1.0)
    assert spans == [Span(at(0), 0.0, 2.0), Span(at(3), 2.0, 1.0)]
    assert to_offset(spans, at(2.5)) is None
    assert to_offset(spans, at(3.5)) == pytest.approx(2.5)


def test_segments_before_any_known_run_keep_their_place_in_the_audio() -> None:
    spans = build_timeline([(5, 1.0), (6, 1.0)], [RunStart(6, at(100))], segment_seconds=1.0)
    assert spans == [Span(at(100), 1.0, 1.0)]


def test_speaking_sets_become_intervals_closed_by_the_next_change_or_the_end() -> None:
    changes = [
        (at(1), frozenset({1})),
        (at(3), frozenset({1, 2})),
        (at(4), frozenset({2})),
        (at(6), frozenset()),
        (at(8), frozenset({1})),
    ]
    assert speaking_intervals(changes, end=at(9)) == [
        WallInterval(1, at(1), at(4)),
        WallInterval(2, at(3), at(6)),
        WallInterval(1, at(8), at(9)),
    ]


def test_speaking_intervals_land_on_the_replay_timeline() -> None:
    spoken = [
        WallInterval(1, at(2), at(5)),
        WallInterval(2, at(9), at(33)),  # across the gap: one stretch on the replay
        WallInterval(3, at(20), at(25)),  # wholly in the gap: not heard, not shown
        WallInterval(1, at(36), at(50)),  # runs past the end: clipped
    ]
    assert replay_intervals(two_runs(), spoken) == [
        Interval(1, 2.0, 5.0),
        Interval(2, 9.0, 11.0),
        Interval(1, 14.0, 15.0),
    ]
