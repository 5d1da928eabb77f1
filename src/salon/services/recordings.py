"""Recordings: where a recorded space's audio lives, and for how long it may be replayed."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from salon.domain.errors import NotFound
from salon.domain.lifecycle import SpaceState
from salon.services.context import Context
from salon.services.queries import get_space
from salon.store.models import Space


@dataclass(frozen=True, slots=True)
class Recording:
    """A replayable recording: where its files are, who may hear it, how long it is kept."""

    directory: Path
    ticketed: bool
    #: Seconds until it expires and is deleted; caches must not keep it longer.
    seconds_left: float


async def find(ctx: Context, *, space_id: str) -> Recording:
    """A replayable recording, or NotFound saying why there is none."""
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id)
    if not space.recording:
        raise NotFound("this space was not recorded")
    if space.state != SpaceState.ENDED or space.ended_at is None:
        raise NotFound("the recording is available once the space has ended")
    expires = space.ended_at + timedelta(days=ctx.settings.recording_days)
    left = (expires - ctx.clock.now()).total_seconds()
    if left <= 0:
        raise NotFound(f"recordings are kept for {ctx.settings.recording_days} days")
    path = ctx.settings.recordings_dir / space.id
    if not (path / "init.mp4").is_file():
        raise NotFound("this recording has no audio")
    return Recording(directory=path, ticketed=space.ticketed, seconds_left=left)


async def purge_expired(ctx: Context) -> int:
    """Delete recordings older than the retention period; returns how many went."""
    root = ctx.settings.recordings_dir
    if not root.is_dir():
        return 0
    cutoff = ctx.clock.now() - timedelta(days=ctx.settings.recording_days)
    async with ctx.transaction() as tx:
        expired = set(
            (
                await tx.session.execute(
                    select(Space.id).where(Space.recording.is_(True), Space.ended_at < cutoff)
                )
            ).scalars()
        )
    removed = 0
    for folder in root.iterdir():
        if folder.is_dir() and folder.name in expired:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed
