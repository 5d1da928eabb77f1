"""Who is in a space: joining, leaving, dropped connections and their grace periods."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Literal

from sqlalchemy import select

from salon.domain import lifecycle
from salon.domain.errors import Conflict, Forbidden
from salon.domain.lifecycle import SpaceState
from salon.domain.stage import Role
from salon.events.types import (
    AudienceCount,
    HandLowered,
    HostDisconnected,
    HostReconnected,
    ParticipantJoined,
    ParticipantLeft,
)
from salon.metrics import SPACES_ENDED_BY_GRACE
from salon.services import spaces, tickets
from salon.services.audience import audience_count
from salon.services.context import Context, Tx
from salon.services.queries import (
    find_participant,
    get_space,
    participant_view,
    participants,
)
from salon.store.models import Participant, Space, User
from salon.views import ParticipantView

LeaveReason = Literal["left", "disconnected", "removed", "banned"]


async def join(ctx: Context, *, actor: User, space_id: str) -> ParticipantView:
    """Enter a live space as a listener (or come back to one's seat). Joining twice is a no-op."""
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id, lock=True)
        lifecycle.check_live(space.state)
        participant = await find_participant(tx.session, space.id, actor.id)
        if participant is not None and participant.removed_at is not None:
            raise Forbidden("you were removed from this space")
        await tickets.check_admitted(tx.session, space, actor)
        if participant is None:
            participant = Participant(
                space_id=space.id, user_id=actor.id, role=Role.LISTENER, muted=False
            )
            tx.session.add(participant)
        participant.disconnected_at = None
        if not participant.present:
            participant.present = True
            participant.joined_at = now
            await tx.session.flush()
            await tx.session.refresh(participant)
            view = participant_view(participant)
            tx.emit(ParticipantJoined(space_id=space.id, at=now, participant=view))
            await announce_audience(ctx, tx, space.id, now)
        return participant_view(participant)


async def leave(ctx: Context, *, actor: User, space_id: str) -> None:
    """Leave a space; a speaker gives up their seat. Leaving when not there is a no-op."""
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id, lock=True)
        lifecycle.check_open(space.state)
        participant = await find_participant(tx.session, space.id, actor.id)
        if participant is None or not participant.present:
            return
        if participant.role == Role.HOST:
            raise Conflict("the host ends the space rather than leaving it")
        await let_go(ctx, tx, participant, reason="left", now=ctx.clock.now())


async def let_go(
    ctx: Context, tx: Tx, participant: Participant, *, reason: LeaveReason, now: datetime
) -> None:
    """Take someone out of a space (caller holds the space lock) and tell everyone."""
    space_id = participant.space_id
    if participant.hand_raised_at is not None:
        tx.emit(HandLowered(space_id=space_id, at=now, user_id=participant.user_id, reason="left"))
    participant.present = False
    participant.role = Role.LISTENER
    participant.muted = False
    participant.hand_raised_at = None
    participant.invited_at = None
    participant.inviter = None
    participant.disconnected_at = None
    await tx.session.flush()
    tx.emit(ParticipantLeft(space_id=space_id, at=now, user_id=participant.user_id, reason=reason))
    await announce_audience(ctx, tx, space_id, now)


async def announce_audience(ctx: Context, tx: Tx, space_id: str, now: datetime) -> None:
    """Tell the space its audience after someone came or went (if the figure moved)."""
    count = await audience_count(tx.session, ctx.audience, space_id)
    if ctx.audience.announce(space_id, count):
        tx.emit(AudienceCount(space_id=space_id, at=now, count=count))


async def list_participants(ctx: Context, *, space_id: str) -> list[ParticipantView]:
    async with ctx.transaction() as tx:
        await get_space(tx.session, space_id)
        return await participants(tx.session, space_id)


async def connected(ctx: Context, *, user_id: int, space_id: str) -> None:
    """A person's first live connection to a space opened: cancel any grace period running."""
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id, lock=True)
        if space.state != SpaceState.LIVE:
            return
        if space.host_id == user_id and space.host_disconnected_at is not None:
            space.host_disconnected_at = None
            tx.emit(HostReconnected(space_id=space.id, at=now))
        participant = await find_participant(tx.session, space.id, user_id)
        if participant is not None:
            participant.disconnected_at = None


async def disconnected(ctx: Context, *, user_id: int, space_id: str) -> None:
    """A person's last live connection to a space closed: start their grace period."""
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id, lock=True)
        if space.state != SpaceState.LIVE:
            return
        if space.host_id == user_id:
            space.host_disconnected_at = now
            tx.emit(
                HostDisconnected(
                    space_id=space.id, at=now, grace_seconds=ctx.settings.host_grace_seconds
                )
            )
            return
        participant = await find_participant(tx.session, space.id, user_id)
        if participant is not None and participant.present:
            participant.disconnected_at = now


async def reconcile(ctx: Context, *, is_connected: Callable[[str, int], Awaitable[bool]]) -> int:
    """Start the grace period of everyone the database shows in a live space with no live
    connection anywhere (``is_connected``): the connections died with a process that never
    said so (``kill -9``, a lost machine). Run when a node starts; returns how many.

    Without this a restart would leave every live space live forever and everyone in it
    "present": grace periods start only when a connection is seen closing.
    """
    async with ctx.transaction() as tx:
        hosts = await tx.session.execute(
            select(Space.id, Space.host_id).where(
                Space.state == SpaceState.LIVE, Space.host_disconnected_at.is_(None)
            )
        )
        people = await tx.session.execute(
            select(Participant.space_id, Participant.user_id)
            .join(Space, Space.id == Participant.space_id)
            .where(
                Space.state == SpaceState.LIVE,
                Participant.present.is_(True),
                Participant.disconnected_at.is_(None),
            )
        )
        everyone = {(space_id, user_id) for space_id, user_id in [*hosts, *people]}
    dropped = 0
    for space_id, user_id in sorted(everyone):
        if not await is_connected(space_id, user_id):
            await disconnected(ctx, user_id=user_id, space_id=space_id)
            dropped += 1
    return dropped


async def sweep(ctx: Context) -> None:
    """End spaces whose host stayed away past the grace period; let go of dropped people.

    Runs every few seconds on each node; safe to run concurrently (rows are re-checked under
    the space lock).
    """
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        abandoned = list(
            (
                await tx.session.execute(
                    select(Space.id).where(
                        Space.state == SpaceState.LIVE, Space.host_disconnected_at.is_not(None)
                    )
                )
            ).scalars()
        )
        dropped = list(
            await tx.session.execute(
                select(Participant.space_id, Participant.user_id).where(
                    Participant.present.is_(True), Participant.disconnected_at.is_not(None)
                )
            )
        )
    for space_id in abandoned:
        await _end_if_abandoned(ctx, space_id, now)
    for space_id, user_id in dropped:
        await _let_go_if_dropped(ctx, space_id, user_id, now)


async def _end_if_abandoned(ctx: Context, space_id: str, now: datetime) -> None:
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id, lock=True)
        if space.state == SpaceState.LIVE and lifecycle.grace_expired(
            space.host_disconnected_at, now=now, grace_seconds=ctx.settings.host_grace_seconds
        ):
            await spaces.finish(tx, space, reason="host_left", now=now)
            SPACES_ENDED_BY_GRACE.inc()


async def _let_go_if_dropped(ctx: Context, space_id: str, user_id: int, now: datetime) -> None:
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id, lock=True)
        participant = await find_participant(tx.session, space_id, user_id)
        if (
            space.state == SpaceState.LIVE
            and participant is not None
            and participant.present
            and participant.role != Role.HOST
            and lifecycle.grace_expired(
                participant.disconnected_at,
                now=now,
                grace_seconds=ctx.settings.presence_grace_seconds,
            )
        ):
            await let_go(ctx, tx, participant, reason="disconnected", now=now)
