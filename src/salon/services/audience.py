"""The audience of a space: how many listen (joined or not), and telling everyone when it moves.

Players are counted from the audio they fetch (``domain/audience.py``): the origin counts the
requests it answers itself (not those an edge forwards), and each edge reports what it
answered (``POST /api/edge/listeners``). The figure shown everywhere is the larger of the
joined listeners and the players, never counting the stage.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from salon.clock import Clock
from salon.domain.audience import ListenerEstimate, audience_size, counts_a_listener
from salon.domain.lifecycle import SpaceState
from salon.domain.stage import Role
from salon.events.types import AudienceCount
from salon.services.queries import get_space, joined_listeners
from salon.store.models import Participant, Space

if TYPE_CHECKING:
    from salon.services.context import Context


class AudienceMeter:
    """Each live space's players, and the count last announced.

    This node's own estimate (from the audio it answered and the edge reports it received),
    plus, among several nodes, the other nodes' estimates as last exchanged through Redis
    (``services/node_audience.py``, every sweep).
    """

    def __init__(self, *, clock: Clock, segment_seconds: float, window_seconds: float) -> None:
        self._clock = clock
        self._estimate = ListenerEstimate(segment_seconds, window_seconds)
        self._announced: dict[str, int] = {}
        self._elsewhere: dict[str, int] = {}

    def saw_request(self, space_id: str, name: str) -> None:
        """An LL-HLS request this origin answered to a player (not through an edge)."""
        if counts_a_listener(name):
            self._estimate.saw(space_id, now=self._now())

    def reported(self, space_id: str, requests: int, *, seconds: float, edge: str) -> None:
        """Edge ``edge`` answered ``requests`` counted requests for this space over the last
        ``seconds`` (zero too: that edge has no players left)."""
        self._estimate.saw(
            space_id, now=self._now(), count=requests, seconds=seconds, source=f"edge {edge}"
        )

    def players(self, space_id: str) -> int:
        return self.players_here(space_id) + self._elsewhere.get(space_id, 0)

    def players_here(self, space_id: str) -> int:
        """Players this node counted itself."""
        return self._estimate.estimate(space_id, now=self._now())

    def spaces_here(self) -> list[str]:
        """Spaces this node counts players of itself."""
        return sorted(self._estimate.spaces())

    def counted_elsewhere(self, counts: dict[str, int]) -> None:
        """The other nodes' players per space, as last exchanged (replaces the last)."""
        self._elsewhere = {space_id: n for space_id, n in counts.items() if n > 0}

    def announced(self, space_id: str) -> int:
        """The audience last told to the space's followers (0 before any)."""
        return self._announced.get(space_id, 0)

    def announce(self, space_id: str, count: int) -> bool:
        """Remember ``count`` as told; False when it is what was told last (nothing to say).

        A space starts with an audience of 0, as its view says: that needs no announcing.
        """
        if self._announced.get(space_id, 0) == count:
            return False
        self._announced[space_id] = count
        return True

    def spaces(self) -> list[str]:
        """Spaces with players counted (here or elsewhere) or a count announced."""
        return sorted(set(self._estimate.spaces()) | set(self._announced) | set(self._elsewhere))

    def forget(self, space_id: str) -> None:
        self._estimate.forget(space_id)
        self._announced.pop(space_id, None)
        self._elsewhere.pop(space_id, None)

    def _now(self) -> float:
        return self._clock.now().timestamp()


async def audience_count(session: AsyncSession, meter: AudienceMeter, space_id: str) -> int:
    """Listeners not on the stage, as shown everywhere."""
    return audience_size(
        joined_listeners=await joined_listeners(session, space_id),
        players=meter.players(space_id),
    )


async def announce_changes(ctx: Context, *, only: Collection[str] | None = None) -> None:
    """Tell each live space's followers its audience when it changed (one query in all).

    Joins and leaves announce themselves; this catches what moves without an event: players
    arriving and going, and people moving between the stage and the audience. Among several
    nodes each announces the spaces whose media it runs (``only``), so one change is told once.

    A space whose count seems to have moved is counted again under its lock before anything
    is said: a join or a stage change may be committing at that moment (it announces its own
    count before its commit), and the first read would then be older than what it said.
    """
    meter = ctx.audience
    async with ctx.transaction() as tx:
        rows = await tx.session.execute(
            select(Space.id, func.count(Participant.user_id))
            .outerjoin(
                Participant,
                (Participant.space_id == Space.id)
                & Participant.present.is_(True)
                & (Participant.role == Role.LISTENER),
            )
            .where(Space.state == SpaceState.LIVE)
            .group_by(Space.id)
        )
        live = {space_id: int(joined) for space_id, joined in rows.all()}
    for space_id in meter.spaces():
        if space_id not in live:
            meter.forget(space_id)
    for space_id, joined in live.items():
        if only is not None and space_id not in only:
            continue
        count = audience_size(joined_listeners=joined, players=meter.players(space_id))
        if count != meter.announced(space_id):
            await _announce_locked(ctx, space_id)


async def _announce_locked(ctx: Context, space_id: str) -> None:
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id, lock=True)
        if space.state != SpaceState.LIVE:
            return
        count = await audience_count(tx.session, ctx.audience, space_id)
        if ctx.audience.announce(space_id, count):
            tx.emit(AudienceCount(space_id=space_id, at=ctx.clock.now(), count=count))
