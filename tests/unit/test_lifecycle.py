"""A space's life: states, transitions, titles, topics and scheduling."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta, timezone
from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salon.clock import FakeClock
from salon.domain.errors import Conflict, Invalid
from salon.domain.lifecycle import (
    SpaceState,
    check_live,
    check_one_live,
    check_one_scheduled,
    check_open,
    check_schedule,
    check_title,
    check_topics,
    grace_expired,
    transition,
)
from salon.domain.text import BIDI_CONTROLS

S = SpaceState
NOW = FakeClock().now()
MAX_DAYS = 14

ALLOWED = {(S.SCHEDULED, S.LIVE), (S.SCHEDULED, S.CANCELLED), (S.LIVE, S.ENDED)}

#: Every refused transition and what the person is told.
REFUSED = {
    (S.SCHEDULED, S.SCHEDULED): "a scheduled space cannot be scheduled",
    (S.SCHEDULED, S.ENDED): "a scheduled space cannot be ended",
    (S.LIVE, S.SCHEDULED): "a live space cannot be scheduled",
    (S.LIVE, S.LIVE): "a live space cannot be started",
    (S.LIVE, S.CANCELLED): "a live space cannot be cancelled",
    (S.ENDED, S.SCHEDULED): "an ended space cannot be scheduled",
    (S.ENDED, S.LIVE): "an ended space cannot be started",
    (S.ENDED, S.ENDED): "an ended space cannot be ended",
    (S.ENDED, S.CANCELLED): "an ended space cannot be cancelled",
    (S.CANCELLED, S.SCHEDULED): "a cancelled space cannot be scheduled",
    (S.CANCELLED, S.LIVE): "a cancelled space cannot be started",
    (S.CANCELLED, S.ENDED): "a cancelled space cannot be ended",
    (S.CANCELLED, S.CANCELLED): "a cancelled space cannot be cancelled",
}


def test_every_pair_is_either_allowed_or_refused() -> None:
    assert ALLOWED | set(REFUSED) == set(product(S, S))
    assert not ALLOWED & set(REFUSED)


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_allowed_transitions_return_the_target(current: S, target: S) -> None:
    assert transition(current, target) is target


@pytest.mark.parametrize(("current", "target"), sorted(REFUSED))
def test_refused_transitions_raise_conflict(current: S, target: S) -> None:
    with pytest.raises(Conflict) as caught:
        transition(current, target)
    assert caught.value.detail == REFUSED[(current, target)]
    assert caught.value.status == 409


@pytest.mark.parametrize("state", [S.SCHEDULED, S.LIVE])
def test_check_open_passes_while_not_over(state: S) -> None:
    check_open(state)


@pytest.mark.parametrize(
    ("state", "message"),
    [(S.ENDED, "this space has ended"), (S.CANCELLED, "this space has been cancelled")],
)
def test_check_open_refuses_a_space_that_is_over(state: S, message: str) -> None:
    with pytest.raises(Conflict) as caught:
        check_open(state)
    assert caught.value.detail == message
    with pytest.raises(Conflict) as caught:
        check_live(state)
    assert caught.value.detail == message


def test_check_live() -> None:
    check_live(S.LIVE)
    with pytest.raises(Conflict) as caught:
        check_live(S.SCHEDULED)
    assert caught.value.detail == "this space has not started yet"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hello", "Hello"),
        ("  Hello  ", "Hello"),
        ("\tMorning\nshow ", "Morning\nshow"),
        ("x", "x"),
        ("a" * 70, "a" * 70),
        (" " + "é" * 70 + " ", "é" * 70),
        ("🎙" * 70, "🎙" * 70),
    ],
)
def test_check_title_accepts_and_strips(raw: str, expected: str) -> None:
    assert check_title(raw) == expected


@pytest.mark.parametrize("raw", ["", " ", "\n\t ", "a" * 71, " " + "b" * 71 + " "])
def test_check_title_rejects(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        check_title(raw)
    assert caught.value.detail == "a title is 1 to 70 characters"


@given(st.text(max_size=120), st.text(alphabet=" \t\n\r", max_size=5))
def test_check_title_is_the_normal_stripped_text_when_it_fits(body: str, padding: str) -> None:
    raw = padding + body + padding
    stripped = unicodedata.normalize("NFC", raw).strip()
    shows = any(unicodedata.category(c)[0] not in "ZC" for c in stripped)
    if 1 <= len(stripped) <= 70 and shows and not BIDI_CONTROLS & set(stripped):
        assert check_title(raw) == stripped
    else:
        with pytest.raises(Invalid):
            check_title(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([], []),
        (["music"], ["music"]),
        ([" music ", "Tech"], ["music", "Tech"]),
        (["Music", "music", "MUSIC"], ["Music"]),
        (["a", "b", "c"], ["a", "b", "c"]),
        # Duplicates are merged before the count, so four with one repeat is fine.
        (["a", "b", "A", "c"], ["a", "b", "c"]),
        (["t" * 30], ["t" * 30]),
    ],
)
def test_check_topics_accepts(raw: list[str], expected: list[str]) -> None:
    assert check_topics(raw) == expected


def test_check_topics_rejects_more_than_three() -> None:
    with pytest.raises(Invalid) as caught:
        check_topics(["a", "b", "c", "d"])
    assert caught.value.detail == "a space has at most 3 topics"


@pytest.mark.parametrize("bad", ["", "   ", "t" * 31])
def test_check_topics_rejects_a_bad_topic(bad: str) -> None:
    with pytest.raises(Invalid) as caught:
        check_topics(["fine", bad])
    assert caught.value.detail == "a topic is 1 to 30 characters"


@given(st.lists(st.sampled_from(["Jazz", "jazz", "JAZZ", "Rock", "rock", "Pop"]), max_size=10))
def test_check_topics_merges_case_insensitively(raw: list[str]) -> None:
    distinct = {topic.lower() for topic in raw}
    if len(distinct) > 3:
        with pytest.raises(Invalid):
            check_topics(raw)
        return
    topics = check_topics(raw)
    assert [topic.lower() for topic in topics] == list(dict.fromkeys(t.lower() for t in raw))
    # The first spelling seen is the one kept.
    for topic in topics:
        assert topic == next(t for t in raw if t.lower() == topic.lower())


def test_check_schedule_accepts_the_future_up_to_fourteen_days() -> None:
    for ahead in (
        timedelta(seconds=1),
        timedelta(hours=1),
        timedelta(days=13, hours=23),
        timedelta(days=14),
    ):
        assert check_schedule(NOW + ahead, now=NOW, max_days=MAX_DAYS) == NOW + ahead


def test_check_schedule_accepts_another_timezone() -> None:
    paris = timezone(timedelta(hours=2))
    starts_at = (NOW + timedelta(days=1)).astimezone(paris)
    assert check_schedule(starts_at, now=NOW, max_days=MAX_DAYS) == starts_at


@pytest.mark.parametrize("ago", [timedelta(0), timedelta(seconds=1), timedelta(days=1)])
def test_check_schedule_rejects_now_and_the_past(ago: timedelta) -> None:
    with pytest.raises(Invalid) as caught:
        check_schedule(NOW - ago, now=NOW, max_days=MAX_DAYS)
    assert caught.value.detail == "scheduled_for must be in the future"


@pytest.mark.parametrize(
    "ahead", [timedelta(days=14, seconds=1), timedelta(days=15), timedelta(days=365)]
)
def test_check_schedule_rejects_beyond_fourteen_days(ahead: timedelta) -> None:
    with pytest.raises(Invalid) as caught:
        check_schedule(NOW + ahead, now=NOW, max_days=MAX_DAYS)
    assert caught.value.detail == "a space can be scheduled at most 14 days ahead"


def test_check_schedule_follows_the_clock() -> None:
    clock = FakeClock()
    starts_at = clock.now() + timedelta(days=14)
    assert check_schedule(starts_at, now=clock.now(), max_days=MAX_DAYS) == starts_at
    clock.advance(-1)
    with pytest.raises(Invalid):
        check_schedule(starts_at, now=clock.now(), max_days=MAX_DAYS)
    clock.advance(14 * 86_400 + 1)
    with pytest.raises(Invalid):
        check_schedule(starts_at, now=clock.now(), max_days=MAX_DAYS)


def test_check_schedule_rejects_a_naive_datetime() -> None:
    naive = datetime(2026, 1, 2, 12, 0)
    with pytest.raises(Invalid) as caught:
        check_schedule(naive, now=NOW, max_days=MAX_DAYS)
    assert "timezone" in caught.value.detail


def test_check_one_scheduled() -> None:
    check_one_scheduled(0)
    for already in (1, 2):
        with pytest.raises(Conflict) as caught:
            check_one_scheduled(already)
        assert caught.value.detail == (
            "you already have a scheduled space; start or cancel it first"
        )


def test_check_one_live() -> None:
    check_one_live(0)
    for already in (1, 2):
        with pytest.raises(Conflict) as caught:
            check_one_live(already)
        assert caught.value.detail == "you are already hosting a live space; end it first"


def test_grace_never_expires_while_connected() -> None:
    assert grace_expired(None, now=NOW, grace_seconds=300) is False
    assert grace_expired(None, now=NOW + timedelta(days=1), grace_seconds=0) is False


@pytest.mark.parametrize(
    ("elapsed", "expired"),
    [(0, False), (1, False), (299.999, False), (300, True), (300.001, True), (3600, True)],
)
def test_grace_expires_at_the_end_of_the_period(elapsed: float, expired: bool) -> None:
    clock = FakeClock()
    dropped_at = clock.now()
    clock.advance(elapsed)
    assert grace_expired(dropped_at, now=clock.now(), grace_seconds=300) is expired


def test_zero_grace_expires_at_once() -> None:
    assert grace_expired(NOW, now=NOW, grace_seconds=0) is True
