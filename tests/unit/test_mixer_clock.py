"""The mixer clock's plan: wait when early, catch up when a little late, skip when far behind."""

from __future__ import annotations

import pytest

from salon.media.room import MAX_LAG_TICKS, TICK, next_tick


def test_an_early_clock_waits_for_the_next_tick() -> None:
    due, wait, skipped = next_tick(10.0, 10.005)
    assert due == pytest.approx(10.0 + TICK)
    assert wait == pytest.approx(TICK - 0.005)
    assert not skipped


def test_a_clock_held_back_by_a_busy_loop_catches_up_tick_by_tick() -> None:
    """300 ms late (a burst of held requests answered at once): every tick still happens."""
    due, now = 10.0, 10.0 + 0.3
    ticks = 0
    while True:
        due, wait, skipped = next_tick(due, now)
        assert not skipped
        if wait > 0:
            break
        ticks += 1
    assert ticks == round(0.3 / TICK)
    assert due == pytest.approx(10.0 + (ticks + 1) * TICK)


def test_a_clock_stalled_past_the_bound_skips_to_now() -> None:
    now = 10.0 + (MAX_LAG_TICKS + 2) * TICK
    due, wait, skipped = next_tick(10.0, now)
    assert skipped
    assert (due, wait) == (now, 0.0)
