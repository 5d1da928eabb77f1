"""The bots' plain rules: backoff and patience on a fake clock, the seat's mute rule, and where
a followed playlist says the stream restarted."""

from __future__ import annotations

from typing import Any

import pytest

from salon.bots.events import EventOrder
from salon.bots.playlist import Playlist
from salon.bots.retry import Backoff, Patience
from salon.bots.seat import Seat
from salon.media.hls.playlist import LivePlaylist, PartInfo, SegmentInfo, render_live

ME, HOST = 7, 1


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_backoff_doubles_from_half_a_second_to_five_and_starts_again_after_a_success() -> None:
    backoff = Backoff()
    assert [backoff.next() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    backoff.reset()
    assert backoff.next() == 0.5


def test_patience_runs_out_only_after_its_seconds_without_success() -> None:
    clock = FakeClock()
    patience = Patience(10, clock)
    clock.now += 9.9
    assert not patience.exhausted
    patience.ok()
    clock.now += 9.9
    assert not patience.exhausted
    clock.now += 0.1
    assert patience.exhausted


def test_events_apply_once_from_the_snapshot_on_and_a_gap_asks_for_a_new_snapshot() -> None:
    order = EventOrder()
    assert order.accept({"type": "snapshot", "seq": 10}) == (True, False)
    assert order.accept({"type": "muted", "seq": 10}) == (False, False)  # in the snapshot
    assert order.accept({"type": "unmuted", "seq": 11}) == (True, False)
    assert order.accept({"type": "unmuted", "seq": 11}) == (False, False)  # twice
    assert order.accept({"type": "speaking", "seq": None}) == (True, False)
    assert order.accept({"type": "muted", "seq": 13}) == (True, True)  # 12 went missing
    assert order.accept({"type": "unmuted", "seq": 12}) == (False, False)  # too late


def snapshot(role: str = "speaker", muted: bool = True) -> dict[str, Any]:
    me = {"user": {"id": ME, "handle": "bot"}, "role": role, "muted": muted}
    return {"type": "snapshot", "space": {"me": me}}


def test_the_bot_unmutes_the_mute_it_came_on_stage_with_and_its_own() -> None:
    seat = Seat()
    seat.apply(snapshot())
    assert seat.should_unmute
    seat.apply({"type": "unmuted", "user_id": ME})
    assert not seat.should_unmute
    seat.apply({"type": "muted", "user_id": ME, "by": ME})
    assert seat.should_unmute


def test_the_seat_says_whether_it_is_unmuted() -> None:
    seat = Seat()
    seat.apply(snapshot(muted=False))
    assert seat.describe() == "unmuted"
    assert not seat.should_mute


def test_a_bot_asked_to_stay_muted_never_unmutes_and_shuts_an_open_seat() -> None:
    seat = Seat(stay_muted=True)
    seat.apply(snapshot(muted=True))  # the mute it came on stage with
    assert not seat.should_unmute
    assert not seat.should_mute
    assert seat.describe() == "muted (--muted)"
    seat.apply({"type": "unmuted", "user_id": ME})  # opened from another device
    assert seat.should_mute
    seat.apply({"type": "muted", "user_id": ME, "by": ME})
    assert (seat.should_mute, seat.should_unmute) == (False, False)
    seat.apply({"type": "role_changed", "user_id": ME, "role": "listener", "previous": "speaker"})
    assert not seat.should_mute  # off the stage there is no microphone to shut


def test_a_hosts_mute_is_never_overridden_until_it_is_lifted() -> None:
    seat = Seat()
    seat.apply(snapshot(muted=False))
    seat.apply({"type": "muted", "user_id": ME, "by": HOST})
    assert not seat.should_unmute
    assert seat.describe() == "muted by the host"
    # The same mute, seen again in the snapshot after a reconnection, is still the host's.
    seat.apply(snapshot(muted=True))
    assert not seat.should_unmute
    # Someone else's events change nothing.
    seat.apply({"type": "unmuted", "user_id": HOST})
    assert seat.muted_by_host
    seat.apply({"type": "unmuted", "user_id": ME})
    assert not seat.muted


def test_a_mute_made_while_the_bot_was_away_is_left_alone() -> None:
    seat = Seat()
    seat.apply(snapshot(muted=False))
    seat.apply(snapshot(muted=True))  # after a reconnection: who muted it is unknown
    assert not seat.should_unmute
    assert "unknown" in seat.describe()


def test_moving_off_and_back_on_stage_follows_the_servers_rules() -> None:
    seat = Seat()
    seat.apply(snapshot(muted=False))
    seat.apply({"type": "role_changed", "user_id": ME, "role": "listener", "previous": "speaker"})
    assert (seat.on_stage, seat.muted) == (False, False)
    seat.apply({"type": "role_changed", "user_id": ME, "role": "speaker", "previous": "listener"})
    assert seat.on_stage
    assert seat.should_unmute  # new speakers come on stage muted: that mute is the seat's


@pytest.mark.parametrize("run", [0, 1, 2])
def test_parts_carry_the_stretch_of_stream_they_belong_to(run: int) -> None:
    """Parts of a restarted run (EXT-X-DISCONTINUITY at its first segment) are in a new
    stretch, before and after the tag leaves the window."""
    parts = (PartInfo(0.192),) * 5

    def window(first: int) -> Playlist:
        return Playlist.parse(
            render_live(
                LivePlaylist(
                    segments=[SegmentInfo(msn, 0.96, parts) for msn in range(first, first + 4)],
                    open_msn=first + 4,
                    open_parts=parts[:2],
                    target_duration=1,
                    part_target=0.192,
                    preload_hint=(first + 4, 2),
                    discontinuity_sequence=run,
                    discontinuity_msn=50 if run else None,
                )
            )
        )

    with_tag, later = window(50), window(60)  # the tagged segment listed, then gone
    assert with_tag.parts
    assert later.parts
    assert {p.discontinuity for p in with_tag.parts} == {run}
    assert {p.discontinuity for p in later.parts} == {run}
