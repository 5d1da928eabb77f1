"""The bell: notifications written with the change that causes them, read and waited for.

A notification is a row per person, unique by its key, so a retried or resumed write tells
nobody twice. Small ones (an invitation, a ticket) are written in the transaction of the
change. A change that tells many people (a space going live tells its host's followers)
commits one ``NotificationFanout`` row instead; ``run_fanouts`` then tells them in batches,
each batch and its cursor in one transaction, so the space's lock is never held for them
and a restart resumes where the last commit left off.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from salon.domain.errors import NotFound
from salon.domain.notifications import (
    AUDIENCES,
    FANOUT_BATCH,
    KEEP,
    Audience,
    Fanout,
    Kind,
    fanout_key,
)
from salon.services import deliveries
from salon.services.context import Context, Tx
from salon.services.queries import get_user_by_handle, user_summary
from salon.store.models import (
    Follow,
    Notification,
    NotificationFanout,
    Purchase,
    Reminder,
    Space,
    User,
)
from salon.views import NotificationPage, NotificationSpace, NotificationView

log = logging.getLogger(__name__)

#: A waiting long-poll looks at the database this often too: notifications written by
#: another node ring nobody here.
RECHECK_SECONDS = 2.0
#: How long a node holds a fan-out it works on before another may take it over.
CLAIM = timedelta(seconds=30)


# --- writing ------------------------------------------------------------------------------


async def tell(
    tx: Tx,
    user_ids: list[int],
    *,
    kind: Kind,
    key: str,
    now: datetime,
    space_id: str | None = None,
    actor_id: int | None = None,
    count: int | None = None,
    scheduled_for: datetime | None = None,
) -> None:
    """Write one notification to each person in ``user_ids`` who has none with ``key``."""
    if not user_ids:
        return
    rows: list[dict[str, Any]] = [
        {
            "user_id": user_id,
            "kind": str(kind),
            "key": key,
            "space_id": space_id,
            "actor_id": actor_id,
            "count": count,
            "scheduled_for": scheduled_for,
            "created_at": now,
            "read_at": None,
        }
        for user_id in user_ids
    ]
    inserted = await tx.session.execute(
        _insert_new(tx.session, rows).returning(Notification.id, Notification.user_id)
    )
    new = [(int(row.id), int(row.user_id)) for row in inserted]
    tx.rings.update(user_id for _, user_id in new)
    # The outbox: a push to each subscribed browser, an e-mail if they chose this kind.
    await deliveries.queue(tx, new, kind=kind, now=now)


def _insert_new(session: AsyncSession, rows: list[dict[str, Any]]) -> Any:
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return (
        insert(Notification).values(rows).on_conflict_do_nothing(index_elements=["user_id", "key"])
    )


def fan_out(
    tx: Tx,
    fanout: Fanout,
    space: Space,
    *,
    now: datetime,
    scheduled_for: datetime | None = None,
) -> None:
    """Commit, with the change, that ``fanout``'s audiences are to be told (one row)."""
    tx.session.add(
        NotificationFanout(
            fanout=str(fanout),
            space_id=space.id,
            actor_id=space.host_id,
            scheduled_for=scheduled_for,
            stage=0,
            cursor=0,
            created_at=now,
        )
    )
    tx.fanouts = True


async def ticket_sold(tx: Tx, space: Space, purchase: Purchase, now: datetime) -> None:
    """The buyer is told of their ticket; the host of the space's sales, one unread line a
    space with the running count."""
    await tell(
        tx,
        [purchase.buyer_id],
        kind=Kind.TICKET_BOUGHT,
        key=f"{Kind.TICKET_BOUGHT}:{purchase.id}",
        now=now,
        space_id=space.id,
        actor_id=space.host_id,
    )
    unread = (
        await tx.session.execute(
            select(Notification).where(
                Notification.user_id == space.host_id,
                Notification.kind == str(Kind.TICKETS_SOLD),
                Notification.space_id == space.id,
                Notification.read_at.is_(None),
            )
        )
    ).scalar_one_or_none()
    sold = 1
    if unread is not None:
        sold += unread.count or 0
        await tx.session.delete(unread)  # replaced by a newer line: the bell sees it as new
        await tx.session.flush()
    await tell(
        tx,
        [space.host_id],
        kind=Kind.TICKETS_SOLD,
        key=f"{Kind.TICKETS_SOLD}:{purchase.id}",
        now=now,
        space_id=space.id,
        count=sold,
    )


async def ticket_refunded(tx: Tx, purchase: Purchase, now: datetime) -> None:
    await tell(
        tx,
        [purchase.buyer_id],
        kind=Kind.TICKET_REFUNDED,
        key=f"{Kind.TICKET_REFUNDED}:{purchase.id}",
        now=now,
        space_id=purchase.space_id,
    )


# --- fan-outs -------------------------------------------------------------------------------


async def run_fanouts(ctx: Context, *, batch: int | None = None) -> int:
    """Work through every fan-out not done yet (or held by a node that stopped); returns
    how many people were told. Safe to run on every node at once."""
    batch = batch or FANOUT_BATCH
    told = 0
    while (fanout_id := await _claim(ctx)) is not None:
        while True:
            step = await _one_batch(ctx, fanout_id, batch)
            if step is None:
                break
            told += step
    return told


async def _claim(ctx: Context) -> int | None:
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        candidates = await tx.session.scalars(
            select(NotificationFanout.id)
            .where(
                NotificationFanout.done_at.is_(None),
                (NotificationFanout.claimed_until.is_(None))
                | (NotificationFanout.claimed_until < now),
            )
            .order_by(NotificationFanout.id)
            .limit(5)
        )
        for fanout_id in candidates:
            claimed = await tx.session.execute(
                update(NotificationFanout)
                .where(
                    NotificationFanout.id == fanout_id,
                    NotificationFanout.done_at.is_(None),
                    (NotificationFanout.claimed_until.is_(None))
                    | (NotificationFanout.claimed_until < now),
                )
                .values(claimed_until=now + CLAIM)
            )
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                return int(fanout_id)
    return None


async def _one_batch(ctx: Context, fanout_id: int, batch: int) -> int | None:
    """Tell the next ``batch`` people of the fan-out; None once it is done."""
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        row = await tx.session.get(NotificationFanout, fanout_id, with_for_update=True)
        if row is None or row.done_at is not None:
            return None
        audiences = AUDIENCES[Fanout(row.fanout)]
        if row.stage >= len(audiences):
            row.done_at = now
            return None
        audience, kind = audiences[row.stage]
        people = list(await tx.session.scalars(_audience(audience, row).limit(batch)))
        key = fanout_key(Fanout(row.fanout), row.space_id, row.scheduled_for)
        await tell(
            tx,
            people,
            kind=kind,
            key=key,
            now=now,
            space_id=row.space_id,
            actor_id=row.actor_id,
            scheduled_for=row.scheduled_for,
        )
        if len(people) < batch:
            row.stage += 1
            row.cursor = 0
        else:
            row.cursor = people[-1]
        row.claimed_until = now + CLAIM
        return len(people)


def _audience(audience: Audience, row: NotificationFanout) -> Any:
    """The ids of ``audience`` after the cursor, in id order."""
    if audience is Audience.REMINDED:
        query = select(Reminder.user_id.label("id")).where(Reminder.space_id == row.space_id)
        column = Reminder.user_id
    elif audience is Audience.FOLLOWERS:
        query = (
            select(Follow.follower_id.label("id"))
            .join(User, User.id == Follow.follower_id)
            .where(
                Follow.followee_id == row.actor_id,
                Follow.notify.is_(True),
                User.notify_live.is_(True),
                User.banned.is_(False),
            )
        )
        column = Follow.follower_id
    else:
        query = (
            select(Purchase.buyer_id.label("id"))
            .where(Purchase.space_id == row.space_id, Purchase.ticket_issued_at.is_not(None))
            .distinct()
        )
        column = Purchase.buyer_id
    return query.where(column > row.cursor).order_by(column)


# --- reading --------------------------------------------------------------------------------


async def page(
    ctx: Context, *, user: User, limit: int, before: int | None = None, after: int | None = None
) -> NotificationPage:
    """The person's notifications, newest first: before ``before``, or newer than ``after``."""
    async with ctx.transaction() as tx:
        query = select(Notification).where(Notification.user_id == user.id)
        if before is not None:
            query = query.where(Notification.id < before)
        if after is not None:
            query = query.where(Notification.id > after)
        rows = list(await tx.session.scalars(query.order_by(Notification.id.desc()).limit(limit)))
        return NotificationPage(
            items=await _views(tx.session, rows),
            unread=await _unread(tx.session, user.id),
            latest_id=await tx.session.scalar(
                select(func.max(Notification.id)).where(Notification.user_id == user.id)
            ),
        )


async def wait(
    ctx: Context,
    *,
    user: User,
    after: int,
    timeout: float,  # noqa: ASYNC109 - the long-poll's own bound, asked for by the client
    limit: int,
) -> NotificationPage:
    """``page`` of what is newer than ``after``, waiting up to ``timeout`` s for some."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = await page(ctx, user=user, limit=limit, after=after)
        left = deadline - loop.time()
        if found.items or left <= 0:
            return found
        await ctx.bell.wait(user.id, min(left, RECHECK_SECONDS))


async def mark_read(ctx: Context, *, user: User, up_to: int) -> int:
    """Mark the person's notifications up to ``up_to`` read; returns how many stay unread."""
    async with ctx.transaction() as tx:
        await tx.session.execute(
            update(Notification)
            .where(
                Notification.user_id == user.id,
                Notification.id <= up_to,
                Notification.read_at.is_(None),
            )
            .values(read_at=ctx.clock.now())
        )
        return await _unread(tx.session, user.id)


async def purge_old(ctx: Context) -> int:
    """Forget notifications (and finished fan-outs) older than the bell keeps them."""
    cutoff = ctx.clock.now() - KEEP
    async with ctx.transaction() as tx:
        gone = await tx.session.execute(
            delete(Notification).where(Notification.created_at < cutoff)
        )
        await tx.session.execute(
            delete(NotificationFanout).where(NotificationFanout.done_at < cutoff)
        )
        return int(gone.rowcount or 0)  # type: ignore[attr-defined]


async def _unread(session: AsyncSession, user_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    return int(count or 0)


async def _views(session: AsyncSession, rows: list[Notification]) -> list[NotificationView]:
    space_ids = {r.space_id for r in rows if r.space_id is not None}
    actor_ids = {r.actor_id for r in rows if r.actor_id is not None}
    spaces = {s.id: s for s in await session.scalars(select(Space).where(Space.id.in_(space_ids)))}
    actors = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(actor_ids)))}
    views = []
    for row in rows:
        space = spaces.get(row.space_id) if row.space_id is not None else None
        actor = actors.get(row.actor_id) if row.actor_id is not None else None
        views.append(
            NotificationView(
                id=row.id,
                kind=row.kind,
                created_at=row.created_at,
                read=row.read_at is not None,
                space=None
                if space is None
                else NotificationSpace(
                    id=space.id,
                    title=space.title,
                    state=space.state,
                    scheduled_for=row.scheduled_for or space.scheduled_for,
                ),
                actor=None if actor is None else user_summary(actor),
                count=row.count,
            )
        )
    return views


# --- who wants to be told -------------------------------------------------------------------


async def set_follow_notify(ctx: Context, *, actor: User, handle: str, on: bool) -> bool:
    """Turn "X is live" on or off for one host the person follows."""
    async with ctx.transaction() as tx:
        target = await get_user_by_handle(tx.session, handle)
        row = await tx.session.get(Follow, (actor.id, target.id))
        if row is None:
            raise NotFound(f"you do not follow @{target.handle}")
        row.notify = on
        return on
