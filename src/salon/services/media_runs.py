"""Media runs: each time a live space's media starts (going live, a restart, a new node).

A run's number and the space's start time give its LL-HLS stream an identity that survives
restarts: media sequence numbers continue from the start time and each later run opens with
a discontinuity, so no media name repeats within a space's life.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from salon.domain.errors import NotFound
from salon.domain.lifecycle import SpaceState
from salon.services.context import Context
from salon.services.queries import get_space


@dataclass(frozen=True, slots=True)
class MediaRun:
    space_id: str
    #: 0 for the first run of the space's media, then 1, 2, ... after each restart.
    run: int
    started_at: datetime
    recording: bool
    ticketed: bool


async def begin(ctx: Context, *, space_id: str) -> MediaRun:
    """Count a new run of a live space's media (NotFound when it is not live).

    Holds the space's row lock (PostgreSQL) or the write lock (SQLite) while counting, so two
    nodes or two requests starting it at once get different run numbers.
    """
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id, lock=True)
        if space.state != SpaceState.LIVE or space.started_at is None:
            raise NotFound("this space is not live")
        run = space.media_runs
        space.media_runs = run + 1
        return MediaRun(
            space_id=space.id,
            run=run,
            started_at=space.started_at,
            recording=space.recording,
            ticketed=space.ticketed,
        )
