"""Reactions: the fixed emoji set and the per-person sliding-window rate limit."""

from __future__ import annotations

import pytest

from salon.domain.errors import Invalid, RateLimited
from salon.domain.reactions import Emoji, SlidingWindowLimiter, parse_emoji

#: The product's set, in the product's order.
THE_TEN = ["😂", "😲", "😢", "💜", "💯", "👏", "✊", "👍", "👎", "👋"]


def test_the_set_is_exactly_the_ten() -> None:
    assert [emoji.value for emoji in Emoji] == THE_TEN


@pytest.mark.parametrize("value", THE_TEN)
def test_parse_emoji_accepts_each_of_the_ten(value: str) -> None:
    emoji = parse_emoji(value)
    assert isinstance(emoji, Emoji)
    assert emoji.value == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        "❤",
        "❤️",
        "🔥",
        "👍🏽",  # skin-tone modifier
        "👍👍",
        " 👍",
        "👍 ",
        "LAUGH",
        "laugh",
        "thumbs_up",
        ":+1:",
    ],
)
def test_parse_emoji_rejects_anything_else(value: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_emoji(value)
    assert caught.value.status == 422
    assert caught.value.detail == "a reaction is one of " + " ".join(THE_TEN)


def test_limit_hits_pass_within_the_window_then_the_next_is_refused() -> None:
    limiter = SlidingWindowLimiter(limit=3, window=10)
    limiter.hit("ada", now=100.0)
    limiter.hit("ada", now=101.0)
    limiter.hit("ada", now=102.0)
    with pytest.raises(RateLimited) as caught:
        limiter.hit("ada", now=105.0)
    assert caught.value.retry_after == pytest.approx(5.0)
    assert caught.value.status == 429
    assert caught.value.detail == "at most 3 reactions every 10 seconds"


def test_refused_hits_do_not_count() -> None:
    limiter = SlidingWindowLimiter(limit=2, window=10)
    limiter.hit("ada", now=0.0)
    limiter.hit("ada", now=1.0)
    for now in (2.0, 5.0, 9.0):
        with pytest.raises(RateLimited):
            limiter.hit("ada", now=now)
    # Had the refused hits counted, 10.0 would still be refused.
    limiter.hit("ada", now=10.0)


def test_the_window_slides() -> None:
    limiter = SlidingWindowLimiter(limit=2, window=10)
    limiter.hit("ada", now=0.0)
    limiter.hit("ada", now=4.0)
    with pytest.raises(RateLimited) as caught:
        limiter.hit("ada", now=9.5)
    assert caught.value.retry_after == pytest.approx(0.5)
    # Exactly one window after the first hit, that hit no longer counts.
    limiter.hit("ada", now=10.0)
    with pytest.raises(RateLimited) as caught:
        limiter.hit("ada", now=11.0)
    assert caught.value.retry_after == pytest.approx(3.0)
    limiter.hit("ada", now=14.0)


def test_retry_after_is_exactly_when_a_hit_is_allowed_again() -> None:
    limiter = SlidingWindowLimiter(limit=5, window=2.5)
    for i in range(5):
        limiter.hit("ada", now=i * 0.25)
    with pytest.raises(RateLimited) as caught:
        limiter.hit("ada", now=1.5)
    retry_after = caught.value.retry_after
    assert retry_after == pytest.approx(1.0)
    limiter.hit("ada", now=1.5 + retry_after)


def test_keys_are_independent() -> None:
    limiter = SlidingWindowLimiter(limit=1, window=10)
    limiter.hit("ada", now=0.0)
    limiter.hit("grace", now=0.0)
    with pytest.raises(RateLimited):
        limiter.hit("ada", now=1.0)
    with pytest.raises(RateLimited):
        limiter.hit("grace", now=1.0)
    limiter.hit("linus", now=1.0)


def test_idle_keys_are_forgotten() -> None:
    limiter = SlidingWindowLimiter(limit=1, window=10)
    idle = 10_001
    for i in range(idle):
        limiter.hit(f"idle-{i}", now=0.0)
    # A window later every one of those keys is idle; one new hit sweeps them.
    limiter.hit("fresh", now=10.0)
    assert set(limiter._hits) == {"fresh"}
    # A forgotten key starts afresh.
    limiter.hit("idle-0", now=10.0)


def test_memory_stays_bounded_by_the_keys_of_one_window() -> None:
    limiter = SlidingWindowLimiter(limit=1, window=1)
    for second in range(30):
        for i in range(1_000):
            limiter.hit(f"user-{second}-{i}", now=float(second))
    # 30,000 people reacted over 30 seconds; only about a window's worth is kept.
    assert len(limiter._hits) <= 10_001 + 1_000


def test_active_keys_survive_a_sweep() -> None:
    limiter = SlidingWindowLimiter(limit=1, window=10)
    for i in range(10_000):
        limiter.hit(f"idle-{i}", now=0.0)
    limiter.hit("active", now=5.0)
    limiter.hit("trigger", now=10.0)
    assert set(limiter._hits) == {"active", "trigger"}
    with pytest.raises(RateLimited):
        limiter.hit("active", now=12.0)
