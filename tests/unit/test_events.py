"""Live events: the JSON vocabulary, subscriptions and the in-memory bus."""

from __future__ import annotations

import asyncio
import json
import typing
from datetime import timedelta

import pytest

from salon.clock import FakeClock
from salon.domain.lifecycle import SpaceState
from salon.domain.reactions import Emoji
from salon.domain.stage import Role
from salon.events.bus import SlowConsumer, Subscription
from salon.events.memory import MemoryBus
from salon.events.types import (
    AudienceCount,
    Event,
    HandLowered,
    HandRaised,
    HostDisconnected,
    HostReconnected,
    InvitationAnswered,
    Invited,
    MediaMoved,
    Muted,
    ParticipantJoined,
    ParticipantLeft,
    ReactionBurst,
    ReactionSent,
    RoleChanged,
    Snapshot,
    SpaceCancelled,
    SpaceEnded,
    SpaceEvent,
    SpaceStarted,
    SpeakerReplaced,
    Speaking,
    TicketsLeft,
    TicketVoided,
    Unmuted,
    from_json,
    to_json,
)
from salon.views import ParticipantView, SpaceView, TicketInfo, UserSummary

CLOCK = FakeClock()
AT = CLOCK.now()
SPACE = "sp_1"

ADA = UserSummary(id=1, handle="ada", display_name="Ada Lovelace", verified=True)
GRACE = UserSummary(id=2, handle="grace", display_name="Grace Hopper", verified=False)
HOST = ParticipantView(
    user=ADA, role=Role.HOST, present=True, muted=False, hand_raised=False, invited=False
)
LISTENER = ParticipantView(
    user=GRACE, role=Role.LISTENER, present=True, muted=False, hand_raised=True, invited=True
)
SPACE_VIEW = SpaceView(
    id=SPACE,
    title="Morning show ☕",
    topics=["music", "Tech"],
    state=SpaceState.LIVE,
    host=ADA,
    recording=True,
    created_at=AT - timedelta(hours=1),
    scheduled_for=AT - timedelta(minutes=5),
    started_at=AT,
    ended_at=None,
    audience_count=2,
    stage=[HOST],
    reminder_set=True,
    me=LISTENER,
    ticket=TicketInfo(
        price_cents=999, currency="usd", cap=50, tickets_left=7, have_ticket=True, admitted=True
    ),
)


def _union_members() -> set[type[Event]]:
    union, *_ = typing.get_args(SpaceEvent)
    return set(typing.get_args(union))


#: One of each event the server sends, with every field set to something non-default.
SAMPLES: list[Event] = [
    Snapshot(space_id=SPACE, at=AT, space=SPACE_VIEW, participants=[HOST, LISTENER]),
    SpaceStarted(space_id=SPACE, at=AT, space=SPACE_VIEW),
    SpaceEnded(space_id=SPACE, at=AT, reason="host_left"),
    SpaceCancelled(space_id=SPACE, at=AT),
    HostDisconnected(space_id=SPACE, at=AT, grace_seconds=300.5),
    HostReconnected(space_id=SPACE, at=AT),
    ParticipantJoined(space_id=SPACE, at=AT, participant=LISTENER),
    ParticipantLeft(space_id=SPACE, at=AT, user_id=2, reason="removed"),
    RoleChanged(space_id=SPACE, at=AT, user_id=2, role=Role.SPEAKER, previous=Role.LISTENER),
    HandRaised(space_id=SPACE, at=AT, user_id=2),
    HandLowered(space_id=SPACE, at=AT, user_id=2, reason="denied"),
    Invited(space_id=SPACE, at=AT, user_id=2, by=1),
    InvitationAnswered(space_id=SPACE, at=AT, user_id=2, accepted=True),
    Muted(space_id=SPACE, at=AT, user_id=2, by=1),
    Unmuted(space_id=SPACE, at=AT, user_id=2),
    ReactionSent(space_id=SPACE, at=AT, user_id=2, emoji=Emoji.HEART),
    ReactionBurst(
        space_id=SPACE, at=AT, window_seconds=1.0, counts={Emoji.CLAP: 120, Emoji.HUNDRED: 8}
    ),
    Speaking(space_id=SPACE, at=AT, user_ids=[2, 3]),
    AudienceCount(space_id=SPACE, at=AT, count=12_345),
    TicketsLeft(space_id=SPACE, at=AT, tickets_left=3),
    MediaMoved(space_id=SPACE, at=AT, seq=7, node="node-b"),
    SpeakerReplaced(space_id=SPACE, at=AT, user_id=3, session_id="abc"),
    TicketVoided(space_id=SPACE, at=AT, user_id=3),
]


def test_every_event_type_has_a_sample() -> None:
    members = _union_members()
    assert len(members) == 23
    assert {type(sample) for sample in SAMPLES} == members
    assert len(SAMPLES) == len(members)


def test_event_type_names_are_unique() -> None:
    names = [json.loads(to_json(sample))["type"] for sample in SAMPLES]
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda event: type(event).__name__)
def test_event_round_trips_through_json(event: Event) -> None:
    data = to_json(event)
    back = from_json(data)
    assert type(back) is type(event)
    assert back == event
    assert to_json(back) == data
    assert from_json(data.encode()) == event


def test_event_json_is_plain_and_keeps_the_emoji() -> None:
    data = json.loads(to_json(ReactionSent(space_id=SPACE, at=AT, user_id=7, emoji=Emoji.CLAP)))
    assert data == {
        "space_id": SPACE,
        "at": "2026-01-01T12:00:00Z",
        "seq": None,
        "type": "reaction",
        "user_id": 7,
        "emoji": "👏",
    }


def _count(n: int) -> AudienceCount:
    return AudienceCount(space_id=SPACE, at=AT, count=n)


async def test_subscription_delivers_in_order() -> None:
    subscription = Subscription(SPACE, max_queue=5)
    for n in range(5):
        subscription.offer(_count(n))
    assert [await subscription.get() for _ in range(5)] == [_count(n) for n in range(5)]
    assert not subscription.overflowed


async def test_get_waits_for_an_offer() -> None:
    subscription = Subscription(SPACE, max_queue=5)
    waiter = asyncio.ensure_future(subscription.get())
    await asyncio.sleep(0)
    assert not waiter.done()
    subscription.offer(_count(1))
    assert await waiter == _count(1)


async def test_overflow_cuts_the_subscriber_off() -> None:
    subscription = Subscription(SPACE, max_queue=3)
    for n in range(3):
        subscription.offer(_count(n))
    assert not subscription.overflowed
    subscription.offer(_count(3))
    assert subscription.overflowed
    # Later events are dropped, and the reader learns it fell behind.
    subscription.offer(_count(4))
    with pytest.raises(SlowConsumer, match="too slow"):
        await subscription.get()
    with pytest.raises(SlowConsumer):
        await subscription.get()


async def test_overflow_wakes_a_waiting_reader() -> None:
    subscription = Subscription(SPACE, max_queue=0)
    waiter = asyncio.ensure_future(subscription.get())
    await asyncio.sleep(0)
    subscription.offer(_count(1))
    with pytest.raises(SlowConsumer):
        await waiter


async def test_close_drains_then_stops() -> None:
    subscription = Subscription(SPACE, max_queue=5)
    subscription.offer(_count(1))
    subscription.close()
    assert subscription.closed
    subscription.offer(_count(2))
    assert await subscription.get() == _count(1)
    with pytest.raises(asyncio.CancelledError):
        await subscription.get()


async def test_close_wakes_a_waiting_reader() -> None:
    subscription = Subscription(SPACE, max_queue=5)
    waiter = asyncio.ensure_future(subscription.get())
    await asyncio.sleep(0)
    subscription.close()
    await asyncio.sleep(0)
    assert waiter.cancelled()


async def test_publish_reaches_only_that_space() -> None:
    bus = MemoryBus(max_queue=10)
    here_a = bus.subscribe(SPACE)
    here_b = bus.subscribe(SPACE)
    elsewhere = bus.subscribe("sp_2")
    event = _count(1)
    await bus.publish(event)
    assert await here_a.get() == event
    assert await here_b.get() == event
    assert bus.subscriber_count(SPACE) == 2
    assert bus.subscriber_count("sp_2") == 1
    other = AudienceCount(space_id="sp_2", at=AT, count=2)
    await bus.publish(other)
    # The other space's subscriber got only its own event.
    assert await elsewhere.get() == other
    assert not here_a._queue
    assert not here_b._queue


async def test_publish_with_no_subscribers_is_fine() -> None:
    bus = MemoryBus()
    await bus.publish(_count(1))
    assert bus.subscriber_count(SPACE) == 0


async def test_unsubscribe_stops_delivery() -> None:
    bus = MemoryBus(max_queue=10)
    leaving = bus.subscribe(SPACE)
    staying = bus.subscribe(SPACE)
    bus.unsubscribe(leaving)
    assert leaving.closed
    assert bus.subscriber_count(SPACE) == 1
    await bus.publish(_count(1))
    assert await staying.get() == _count(1)
    with pytest.raises(asyncio.CancelledError):
        await leaving.get()
    bus.unsubscribe(staying)
    assert bus.subscriber_count(SPACE) == 0
    # Unsubscribing twice is harmless.
    bus.unsubscribe(staying)


async def test_a_slow_subscriber_does_not_hold_back_another() -> None:
    bus = MemoryBus(max_queue=3)
    slow = bus.subscribe(SPACE)
    fast = bus.subscribe(SPACE)
    received: list[Event] = []
    for n in range(10):
        await bus.publish(_count(n))
        received.append(await fast.get())
    assert received == [_count(n) for n in range(10)]
    assert slow.overflowed
    assert not fast.overflowed
    with pytest.raises(SlowConsumer):
        await slow.get()


async def test_close_unsubscribes_everyone() -> None:
    bus = MemoryBus()
    subscriptions = [bus.subscribe(SPACE), bus.subscribe("sp_2")]
    await bus.close()
    assert all(subscription.closed for subscription in subscriptions)
    assert bus.subscriber_count(SPACE) == 0
    assert bus.subscriber_count("sp_2") == 0
