"""Media leases: exactly one node runs a live space's media, and another takes over when it dies.

The lease lives on the space's row (``media_node``, ``media_url``, ``media_lease_until``), so it
works the same on one SQLite process and on many PostgreSQL nodes. The owner renews it every
few seconds; a lease that has lapsed may be taken by any node, under the space's row lock, so
two nodes taking it at once cannot both win. Taking it counts a new media run (the LL-HLS
stream's discontinuity) and, when another node held it, tells everyone (``media_moved``) so
stage members re-offer at once rather than after ICE gives up (~30 s).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from salon.domain.errors import NotFound
from salon.domain.lifecycle import SpaceState
from salon.events.types import MediaMoved
from salon.services.context import Context
from salon.services.media_runs import MediaRun, next_run
from salon.services.queries import get_space
from salon.store.models import Space


@dataclass(frozen=True, slots=True)
class Lease:
    space_id: str
    node: str
    #: Where other nodes reach the owner (its internal base URL).
    url: str
    until: datetime


async def claim(ctx: Context, *, space_id: str, node: str, url: str) -> MediaRun | None:
    """Take the space's media lease if it is free or lapsed: the new run to open; None when
    a node (this one included) holds a live lease. NotFound when the space is not live.
    """
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id, lock=True)
        if space.state != SpaceState.LIVE or space.started_at is None:
            raise NotFound("this space is not live")
        if space.media_node is not None and _held(space, now):
            return None
        previous = space.media_node
        space.media_node = node
        space.media_url = url
        space.media_lease_until = now + _ttl(ctx)
        if previous is not None and previous != node:
            tx.emit(MediaMoved(space_id=space.id, at=now, node=node))
        return next_run(space)


async def renew(ctx: Context, *, node: str, space_ids: list[str]) -> set[str]:
    """Extend this node's leases on ``space_ids``; returns those it still holds (a space that
    ended, or whose lease another node took while this one was cut off, is not among them)."""
    if not space_ids:
        return set()
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        result = await tx.session.execute(
            update(Space)
            .where(
                Space.id.in_(space_ids),
                Space.media_node == node,
                Space.state == SpaceState.LIVE,
            )
            .values(media_lease_until=now + _ttl(ctx))
            .returning(Space.id)
        )
        return set(result.scalars())


async def release(ctx: Context, *, node: str, space_ids: list[str]) -> None:
    """Let the leases go at once (a node stopping cleanly): another node takes them on its
    next look instead of after the lease runs out."""
    if not space_ids:
        return
    async with ctx.transaction() as tx:
        await tx.session.execute(
            update(Space)
            .where(Space.id.in_(space_ids), Space.media_node == node)
            .values(media_lease_until=ctx.clock.now())
        )


async def orphaned(ctx: Context) -> list[str]:
    """Live spaces whose media nobody runs: never claimed, or the owner's lease lapsed."""
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        rows = await tx.session.execute(
            select(Space.id)
            .where(
                Space.state == SpaceState.LIVE,
                or_(Space.media_node.is_(None), Space.media_lease_until < now),
            )
            .order_by(Space.started_at)
        )
        return list(rows.scalars())


async def owner(ctx: Context, *, space_id: str) -> Lease | None:
    """Who runs the space's media now (None: nobody, or the lease lapsed)."""
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id)
        if space.media_node is None or space.media_url is None or not _held(space, ctx.clock.now()):
            return None
        assert space.media_lease_until is not None  # _held
        return Lease(space.id, space.media_node, space.media_url, space.media_lease_until)


def _held(space: Space, now: datetime) -> bool:
    return space.media_lease_until is not None and space.media_lease_until > now


def _ttl(ctx: Context) -> timedelta:
    return timedelta(seconds=ctx.settings.media_lease_seconds)
