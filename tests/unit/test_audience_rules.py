"""Counting players from the audio they fetch, the audience shown, and reaction tallies."""

from __future__ import annotations

import pytest

from salon.domain.audience import (
    BATCH_SECONDS,
    ListenerEstimate,
    audience_size,
    counts_a_listener,
)
from salon.domain.reactions import Emoji, ReactionTally

SEGMENT = 0.96


def test_only_one_request_per_segment_per_player_counts() -> None:
    assert counts_a_listener("part12.0.m4s")
    assert counts_a_listener("seg12.m4s")
    for name in ("part12.1.m4s", "part12.4.m4s", "live.m3u8", "init.mp4", "audience.json"):
        assert not counts_a_listener(name), name


def players_for(estimate: ListenerEstimate, players: int, *, start: float, seconds: float) -> None:
    """``players`` players keeping up for ``seconds``: one counted request per segment each."""
    for i in range(round(seconds / SEGMENT)):
        for _ in range(players):
            estimate.saw("s", now=start + i * SEGMENT)


def test_a_steady_audience_is_counted_from_its_rate() -> None:
    estimate = ListenerEstimate(SEGMENT, window_seconds=9.6)
    players_for(estimate, 300, start=0.0, seconds=19.2)
    assert 295 <= estimate.estimate("s", now=19.2) <= 305
    assert estimate.estimate("other", now=19.2) == 0


def test_a_new_audience_shows_after_about_a_segment() -> None:
    estimate = ListenerEstimate(SEGMENT, window_seconds=9.6)
    assert estimate.estimate("s", now=0.0) == 0
    players_for(estimate, 100, start=0.0, seconds=3 * SEGMENT)
    assert 90 <= estimate.estimate("s", now=3 * SEGMENT) <= 110


def test_players_who_stop_are_gone_after_a_window() -> None:
    estimate = ListenerEstimate(SEGMENT, window_seconds=9.6)
    players_for(estimate, 50, start=0.0, seconds=19.2)
    assert 48 <= estimate.estimate("s", now=19.2) <= 52
    assert estimate.estimate("s", now=19.2 + 9.6 + BATCH_SECONDS) == 0
    assert estimate.estimate("s", now=1000.0) == 0


def test_edges_report_batches_and_every_source_adds_up() -> None:
    estimate = ListenerEstimate(SEGMENT, window_seconds=10.0)
    # Two edges, reporting every 2 s and every 3 s (so their reports never line up with any
    # window), 1,000 and 500 players: a player makes one counted request per segment.
    for second in range(2, 31):
        if second % 2 == 0:
            estimate.saw("s", now=second, count=1000 * 2 / SEGMENT, seconds=2, source="a")
        if second % 3 == 0:
            estimate.saw("s", now=second, count=500 * 3 / SEGMENT, seconds=3, source="b")
        if second >= 5:
            assert 1495 <= estimate.estimate("s", now=second + 0.5) <= 1505, second
    # Edge a goes away: only b's players remain once a's reports age out of the window.
    for second in range(31, 45):
        if second % 3 == 0:
            estimate.saw("s", now=second, count=500 * 3 / SEGMENT, seconds=3, source="b")
    assert 495 <= estimate.estimate("s", now=45.0) <= 505


def test_a_window_spans_at_least_a_segment() -> None:
    with pytest.raises(ValueError, match="at least one segment"):
        ListenerEstimate(SEGMENT, window_seconds=0.5)


def test_the_audience_is_the_larger_count_and_never_the_stage() -> None:
    assert audience_size(joined_listeners=3, players=0) == 3
    assert audience_size(joined_listeners=3, players=300) == 300
    assert audience_size(joined_listeners=0, players=0) == 0


def test_a_tally_counts_per_space_and_emoji_until_drained() -> None:
    tally = ReactionTally()
    for emoji in (Emoji.CLAP, Emoji.CLAP, Emoji.HUNDRED):
        tally.add("a", emoji)
    tally.add("b", Emoji.WAVE)
    assert tally.drain() == {"a": {Emoji.CLAP: 2, Emoji.HUNDRED: 1}, "b": {Emoji.WAVE: 1}}
    assert tally.drain() == {}
