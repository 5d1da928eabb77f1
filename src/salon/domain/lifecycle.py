"""A space's life: scheduled -> live -> ended, or scheduled -> cancelled."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from salon.domain import text
from salon.domain.errors import Conflict, Invalid

TITLE_MAX = 70
TOPICS_MAX = 3
TOPIC_MAX = 30


class SpaceState(StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    CANCELLED = "cancelled"


_NEXT: dict[SpaceState, frozenset[SpaceState]] = {
    SpaceState.SCHEDULED: frozenset({SpaceState.LIVE, SpaceState.CANCELLED}),
    SpaceState.LIVE: frozenset({SpaceState.ENDED}),
    SpaceState.ENDED: frozenset(),
    SpaceState.CANCELLED: frozenset(),
}

_VERB = {
    SpaceState.LIVE: "started",
    SpaceState.ENDED: "ended",
    SpaceState.CANCELLED: "cancelled",
}


def transition(current: SpaceState, target: SpaceState) -> SpaceState:
    """Return ``target`` if a space in ``current`` may move there; raise Conflict otherwise."""
    if target not in _NEXT[current]:
        verb = _VERB.get(target, str(target))
        article = "an" if current == SpaceState.ENDED else "a"
        raise Conflict(f"{article} {current} space cannot be {verb}")
    return target


def check_open(state: SpaceState) -> None:
    """Nobody can act on a space that is over."""
    if state in (SpaceState.ENDED, SpaceState.CANCELLED):
        raise Conflict(
            f"this space has {'ended' if state == SpaceState.ENDED else 'been cancelled'}"
        )


def check_live(state: SpaceState) -> None:
    check_open(state)
    if state != SpaceState.LIVE:
        raise Conflict("this space has not started yet")


def check_title(title: str) -> str:
    return text.clean(title, what="title", max_length=TITLE_MAX)


def check_topics(topics: list[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in topics:
        topic = text.clean(raw, what="topic", max_length=TOPIC_MAX)
        if topic.lower() not in (t.lower() for t in cleaned):
            cleaned.append(topic)
    if len(cleaned) > TOPICS_MAX:
        raise Invalid(f"a space has at most {TOPICS_MAX} topics")
    return cleaned


def check_schedule(starts_at: datetime, *, now: datetime, max_days: int) -> datetime:
    """A space may be scheduled from now up to ``max_days`` ahead."""
    if starts_at.tzinfo is None:
        raise Invalid("scheduled_for needs a timezone (e.g. 2026-05-01T18:00:00Z)")
    if starts_at <= now:
        raise Invalid("scheduled_for must be in the future")
    if starts_at > now + timedelta(days=max_days):
        raise Invalid(f"a space can be scheduled at most {max_days} days ahead")
    return starts_at


def check_one_scheduled(already_scheduled: int) -> None:
    if already_scheduled >= 1:
        raise Conflict("you already have a scheduled space; start or cancel it first")


def check_one_live(already_live: int) -> None:
    if already_live >= 1:
        raise Conflict("you are already hosting a live space; end it first")


def grace_expired(disconnected_at: datetime | None, *, now: datetime, grace_seconds: float) -> bool:
    """True once a dropped connection has stayed away for the whole grace period."""
    return disconnected_at is not None and now >= disconnected_at + timedelta(seconds=grace_seconds)
