"""The social graph: follow, unfollow, followers and following."""

from __future__ import annotations

from sqlalchemy import select

from salon.domain.errors import Invalid
from salon.services.context import Context
from salon.services.queries import get_user_by_handle, user_summary
from salon.store.models import Follow, User
from salon.views import UserSummary


async def follow(ctx: Context, *, actor: User, handle: str) -> None:
    """Follow ``handle``; following someone twice changes nothing."""
    async with ctx.transaction() as tx:
        target = await get_user_by_handle(tx.session, handle)
        if target.id == actor.id:
            raise Invalid("you cannot follow yourself")
        if await tx.session.get(Follow, (actor.id, target.id)) is None:
            tx.session.add(
                Follow(follower_id=actor.id, followee_id=target.id, created_at=ctx.clock.now())
            )


async def unfollow(ctx: Context, *, actor: User, handle: str) -> None:
    async with ctx.transaction() as tx:
        target = await get_user_by_handle(tx.session, handle)
        row = await tx.session.get(Follow, (actor.id, target.id))
        if row is not None:
            await tx.session.delete(row)


async def followers(ctx: Context, *, handle: str, limit: int, offset: int) -> list[UserSummary]:
    """Who follows ``handle``, newest first."""
    async with ctx.transaction() as tx:
        target = await get_user_by_handle(tx.session, handle)
        rows = await tx.session.execute(
            select(User)
            .join(Follow, Follow.follower_id == User.id)
            .where(Follow.followee_id == target.id)
            .order_by(Follow.created_at.desc(), User.id)
            .limit(limit)
            .offset(offset)
        )
        return [user_summary(u) for u in rows.scalars()]


async def following(ctx: Context, *, handle: str, limit: int, offset: int) -> list[UserSummary]:
    """Whom ``handle`` follows, newest first."""
    async with ctx.transaction() as tx:
        target = await get_user_by_handle(tx.session, handle)
        rows = await tx.session.execute(
            select(User)
            .join(Follow, Follow.followee_id == User.id)
            .where(Follow.follower_id == target.id)
            .order_by(Follow.created_at.desc(), User.id)
            .limit(limit)
            .offset(offset)
        )
        return [user_summary(u) for u in rows.scalars()]
