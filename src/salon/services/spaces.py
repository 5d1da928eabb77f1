"""Spaces: create, start, end, cancel, reschedule, discover, remind."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select

from salon.domain import accounts as account_rules
from salon.domain import lifecycle
from salon.domain import tickets as ticket_rules
from salon.domain.audience import audience_size
from salon.domain.errors import Conflict, Forbidden, Invalid
from salon.domain.lifecycle import SpaceState
from salon.domain.notifications import Fanout
from salon.domain.stage import Role
from salon.events.types import SpaceCancelled, SpaceEnded, SpaceStarted
from salon.services import notifications, payments, tickets
from salon.services.context import Context, Tx
from salon.services.queries import get_space, space_view
from salon.store.models import Follow, Participant, Reminder, Space, User
from salon.views import SpaceView

LIST_LIMIT_MAX = 100
EndReason = Literal["host_ended", "host_left"]


async def create_space(
    ctx: Context,
    *,
    actor: User,
    title: str,
    topics: list[str],
    scheduled_for: datetime | None,
    recording: bool,
    ticket_price_cents: int | None = None,
    ticket_cap: int | None = None,
) -> SpaceView:
    """Open a space now, or schedule it (at most one scheduled space per host).

    With a ticket price and cap, the space is ticketed: it must be scheduled, and its host
    eligible to sell tickets.
    """
    title = lifecycle.check_title(title)
    topics = lifecycle.check_topics(topics)
    ticketed = ticket_price_cents is not None or ticket_cap is not None
    if ticketed:
        if ticket_price_cents is None or ticket_cap is None:
            raise Invalid("a ticketed space needs both a price and a cap")
        ticket_rules.check_price(ticket_price_cents)
        ticket_rules.check_cap(ticket_cap)
        ticket_rules.check_ticketed_schedule(scheduled_for is not None)
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        # Lock the host's row: two creations racing cannot both pass the one-scheduled rule.
        host = (
            await tx.session.execute(select(User).where(User.id == actor.id).with_for_update())
        ).scalar_one()
        followers = await tx.session.scalar(
            select(func.count()).select_from(Follow).where(Follow.followee_id == host.id)
        )
        account_rules.check_can_host(
            followers=int(followers or 0),
            min_followers=ctx.settings.host_min_followers,
            is_admin=host.is_admin,
        )
        if ticketed:
            await tickets.check_seller(tx.session, host, now)
        if scheduled_for is not None:
            lifecycle.check_schedule(
                scheduled_for, now=now, max_days=ctx.settings.schedule_max_days
            )
            lifecycle.check_one_scheduled(await _count_hosted(tx, host.id, SpaceState.SCHEDULED))
            state = SpaceState.SCHEDULED
        else:
            lifecycle.check_one_live(await _count_hosted(tx, host.id, SpaceState.LIVE))
            state = SpaceState.LIVE
        live = state == SpaceState.LIVE
        space = Space(
            id=secrets.token_urlsafe(9),
            title=title,
            topics=topics,
            host_id=host.id,
            state=state,
            recording=recording,
            created_at=now,
            scheduled_for=scheduled_for,
            started_at=now if live else None,
            ended_at=None,
            end_reason=None,
            host_disconnected_at=None,
            ticket_price_cents=ticket_price_cents,
            ticket_cap=ticket_cap,
        )
        tx.session.add(space)
        await tx.session.flush()
        tx.session.add(
            Participant(
                space_id=space.id,
                user_id=host.id,
                role=Role.HOST,
                present=live,
                muted=False,
                joined_at=now if live else None,
            )
        )
        await tx.session.flush()
        await tx.session.refresh(space)
        if live:  # nobody follows it yet, but a node takes its media (ownership.py)
            view = await _view(ctx, tx, space, None)
            tx.emit(SpaceStarted(space_id=space.id, at=now, space=view))
            notifications.fan_out(tx, Fanout.LIVE, space, now=now)  # the host's followers
        return await _view(ctx, tx, space, actor.id)


async def _count_hosted(tx: Tx, host_id: int, state: SpaceState) -> int:
    count = await tx.session.scalar(
        select(func.count())
        .select_from(Space)
        .where(Space.host_id == host_id, Space.state == state)
    )
    return int(count or 0)


def _check_host(space: Space, actor: User, verb: str) -> None:
    if space.host_id != actor.id:
        raise Forbidden(f"only the host can {verb} this space")


async def start_space(ctx: Context, *, actor: User, space_id: str) -> SpaceView:
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id, lock=True)
        _check_host(space, actor, "start")
        target = lifecycle.transition(space.state, SpaceState.LIVE)
        # Count before changing the state: autoflush would otherwise count this space itself.
        lifecycle.check_one_live(await _count_hosted(tx, actor.id, SpaceState.LIVE))
        space.state = target
        space.started_at = now
        host = await tx.session.get(Participant, (space.id, actor.id))
        assert host is not None
        host.present = True
        host.joined_at = now
        await tx.session.flush()
        view = await _view(ctx, tx, space, None)
        tx.emit(SpaceStarted(space_id=space.id, at=now, space=view))
        # Reminders and followers are told after the commit, in batches (one row here).
        notifications.fan_out(tx, Fanout.LIVE, space, now=now)
        return await _view(ctx, tx, space, actor.id)


async def end_space(ctx: Context, *, actor: User, space_id: str) -> SpaceView:
    """The host ends a live space; everyone is let go."""
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id, lock=True)
        _check_host(space, actor, "end")
        await finish(tx, space, reason="host_ended", now=ctx.clock.now())
        return await _view(ctx, tx, space, actor.id)


async def finish(tx: Tx, space: Space, *, reason: EndReason, now: datetime) -> None:
    """End a live space (the caller holds its lock). Shared by the host and the grace timer."""
    space.state = lifecycle.transition(space.state, SpaceState.ENDED)
    space.ended_at = now
    space.end_reason = reason
    space.host_disconnected_at = None
    rows = await tx.session.execute(
        select(Participant).where(Participant.space_id == space.id, Participant.present.is_(True))
    )
    for participant in rows.scalars():
        participant.present = False
        participant.hand_raised_at = None
        participant.invited_at = None
        participant.inviter = None
    # Tickets sold stay sold; a purchase still in progress can no longer get one.
    await payments.close_sales(tx, space, now, refund=False)
    tx.emit(SpaceEnded(space_id=space.id, at=now, reason=reason))


async def cancel_space(ctx: Context, *, actor: User, space_id: str) -> SpaceView:
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id, lock=True)
        _check_host(space, actor, "cancel")
        space.state = lifecycle.transition(space.state, SpaceState.CANCELLED)
        space.ended_at = now
        space.end_reason = "cancelled"
        # Every ticket holder is refunded: queued here, made after the commit by the sweeper.
        await payments.close_sales(tx, space, now, refund=True)
        tx.emit(SpaceCancelled(space_id=space.id, at=now))
        notifications.fan_out(tx, Fanout.CANCELLED, space, now=now)
        return await _view(ctx, tx, space, actor.id)


async def reschedule_space(
    ctx: Context, *, actor: User, space_id: str, scheduled_for: datetime
) -> SpaceView:
    """The host moves a scheduled space; everyone who set a reminder is told."""
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id, lock=True)
        _check_host(space, actor, "reschedule")
        if space.state != SpaceState.SCHEDULED:
            raise Conflict(f"only a scheduled space can be moved; this one is {space.state}")
        lifecycle.check_schedule(scheduled_for, now=now, max_days=ctx.settings.schedule_max_days)
        if space.scheduled_for != scheduled_for:
            space.scheduled_for = scheduled_for
            notifications.fan_out(
                tx, Fanout.RESCHEDULED, space, now=now, scheduled_for=scheduled_for
            )
        await tx.session.flush()
        return await _view(ctx, tx, space, actor.id)


async def _view(ctx: Context, tx: Tx, space: Space, viewer_id: int | None) -> SpaceView:
    return await space_view(
        tx.session, space, viewer_id=viewer_id, players=ctx.audience.players(space.id)
    )


async def get(ctx: Context, *, space_id: str, viewer: User | None) -> SpaceView:
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id)
        return await _view(ctx, tx, space, viewer.id if viewer else None)


async def event_seq(ctx: Context, *, space_id: str) -> int:
    """The sequence number of the space's last committed event: read before a snapshot, so
    the snapshot includes at least every change up to it."""
    async with ctx.transaction() as tx:
        return (await get_space(tx.session, space_id)).event_seq


async def list_live(ctx: Context, *, viewer: User | None, limit: int) -> list[SpaceView]:
    """Live spaces: hosts the viewer follows first, then the largest audiences.

    The audience counts players the database does not know (``services/audience.py``), so
    the order is made here from one grouped query, and views are built for the page only.
    """
    async with ctx.transaction() as tx:
        followed: set[int] = set()
        if viewer is not None:
            rows = await tx.session.execute(
                select(Follow.followee_id).where(Follow.follower_id == viewer.id)
            )
            followed = set(rows.scalars())
        listeners = (
            select(Participant.space_id, func.count().label("joined"))
            .where(Participant.present.is_(True), Participant.role == Role.LISTENER)
            .group_by(Participant.space_id)
            .subquery()
        )
        live = await tx.session.execute(
            select(Space.id, Space.host_id, func.coalesce(listeners.c.joined, 0))
            .outerjoin(listeners, listeners.c.space_id == Space.id)
            .where(Space.state == SpaceState.LIVE)
            .order_by(Space.started_at.desc(), Space.id)
        )
        ranked = sorted(
            live.all(),
            # Stable: equal audiences keep the newest first.
            key=lambda row: (
                row[1] not in followed,
                -audience_size(joined_listeners=int(row[2]), players=ctx.audience.players(row[0])),
            ),
        )
        viewer_id = viewer.id if viewer else None
        return [
            await _view(ctx, tx, await get_space(tx.session, space_id), viewer_id)
            for space_id, _, _ in ranked[:limit]
        ]


async def list_scheduled(ctx: Context, *, viewer: User | None, limit: int) -> list[SpaceView]:
    """Scheduled spaces, soonest first."""
    async with ctx.transaction() as tx:
        rows = await tx.session.execute(
            select(Space)
            .where(Space.state == SpaceState.SCHEDULED)
            .order_by(Space.scheduled_for, Space.id)
            .limit(limit)
        )
        viewer_id = viewer.id if viewer else None
        return [await _view(ctx, tx, s, viewer_id) for s in rows.scalars()]


async def set_reminder(ctx: Context, *, actor: User, space_id: str, on: bool) -> SpaceView:
    """Anyone may ask to be reminded of a scheduled space (and change their mind)."""
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id)
        if space.state != SpaceState.SCHEDULED:
            raise Conflict(f"reminders are for scheduled spaces; this one is {space.state}")
        existing = await tx.session.get(Reminder, (space.id, actor.id))
        if on and existing is None:
            tx.session.add(
                Reminder(space_id=space.id, user_id=actor.id, created_at=ctx.clock.now())
            )
        elif not on and existing is not None:
            await tx.session.delete(existing)
        await tx.session.flush()
        return await _view(ctx, tx, space, actor.id)
