"""Recordings: where a recorded space's audio lives, for how long it may be replayed, and its
host deleting it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from salon.config import Settings
from salon.domain.errors import Forbidden, Gone, NotFound
from salon.domain.lifecycle import SpaceState
from salon.services.context import Context
from salon.services.queries import get_space
from salon.store.models import Space, User


@dataclass(frozen=True, slots=True)
class Recording:
    """A replayable recording: where its files are, who may hear it, how long it is kept."""

    directory: Path
    ticketed: bool
    #: Seconds until it expires and is deleted; caches must not keep it longer.
    seconds_left: float
    #: When it expires.
    expires_at: datetime


def retention(settings: Settings) -> timedelta:
    return timedelta(days=settings.recording_days)


def expires_at(space: Space, settings: Settings) -> datetime | None:
    """When an ended recorded space's replay goes, or None (not recorded, not ended)."""
    if not space.recording or space.ended_at is None:
        return None
    return space.ended_at + timedelta(days=settings.recording_days)


def check_replayable(space: Space, settings: Settings, now: datetime) -> datetime:
    """The replay's expiry, or NotFound/Gone saying why there is no replay."""
    if not space.recording:
        raise NotFound("this space was not recorded")
    if space.state != SpaceState.ENDED or space.ended_at is None:
        raise NotFound("the recording is available once the space has ended")
    if space.recording_deleted_at is not None:
        raise Gone("the host deleted this recording")
    expires = space.ended_at + timedelta(days=settings.recording_days)
    if expires <= now:
        raise Gone(f"recordings are kept for {settings.recording_days} days")
    return expires


async def find(ctx: Context, *, space_id: str) -> Recording:
    """A replayable recording, or NotFound/Gone saying why there is none."""
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id)
    now = ctx.clock.now()
    expires = check_replayable(space, ctx.settings, now)
    path = ctx.settings.recordings_dir / space.id
    if not (path / "init.mp4").is_file():
        raise NotFound("this recording has no audio")
    return Recording(
        directory=path,
        ticketed=space.ticketed,
        seconds_left=(expires - now).total_seconds(),
        expires_at=expires,
    )


async def delete(ctx: Context, *, actor: User, space_id: str) -> None:
    """The host deletes their space's recording: its replay is refused from this moment
    (the row says so before the files go), and its files are removed."""
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id, lock=True)
        if space.host_id != actor.id:
            raise Forbidden("only the host can delete this space's recording")
        if not space.recording:
            raise NotFound("this space was not recorded")
        if space.state != SpaceState.ENDED:
            raise NotFound("the recording can be deleted once the space has ended")
        if space.recording_deleted_at is not None:
            raise Gone("this recording was already deleted")
        space.recording_deleted_at = ctx.clock.now()
    shutil.rmtree(ctx.settings.recordings_dir / space_id, ignore_errors=True)


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
