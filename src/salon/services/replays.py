"""Replays people find and follow: a person's spaces with their replays, the replays of the
people one follows, and a replay's timeline (who spoke when, reactions at their moments)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select

from salon.domain.lifecycle import SpaceState
from salon.domain.replay_timeline import (
    RunStart,
    build_timeline,
    replay_intervals,
    speaking_intervals,
    to_offset,
)
from salon.media.hls.recorder import (
    gap_seconds,
    read_timeline,
    recorded_msns,
    recording_segments,
)
from salon.media.hls.stream import SEGMENT_SECONDS
from salon.services import listening, recordings
from salon.services.context import Context
from salon.services.queries import (
    get_space,
    get_user_by_handle,
    space_view,
    user_summary,
)
from salon.store.models import Follow, Reaction, Space, User
from salon.views import SpaceView, UserSummary, View


class ReplayStatus(View):
    """Whether an ended recorded space can be replayed, and until when."""

    #: True while the replay can be played (not expired, not deleted by its host).
    available: bool
    #: When the replay expires (also set once it has expired); None if deleted.
    expires_at: datetime | None
    #: The host deleted the recording.
    deleted: bool = False


class ListedSpace(SpaceView):
    """A space in a list of spaces; an ended recorded one says whether it has a replay."""

    replay: ReplayStatus | None = None


class SpokenInterval(View):
    """Someone speaking from ``start`` to ``end``, in seconds of recorded audio."""

    user_id: int
    start: float
    end: float


class ReplayReaction(View):
    """A reaction sent while the space was live, at its moment in the recorded audio."""

    emoji: str
    user_id: int
    at: float


class ReplayView(View):
    """An ended recorded space's replay: its length, expiry, and what happened when.

    Times are seconds of recorded audio (what a player's ``currentTime`` says); moments that
    fell in a gap of the recording (a restart) or outside it are left out.
    """

    space_id: str
    #: Seconds of recorded audio.
    duration: float
    #: Audio lost while the space's media restarted or moved to another node (seconds).
    gap_seconds: float
    expires_at: datetime
    #: Everyone who spoke, and the host.
    people: list[UserSummary]
    speaking: list[SpokenInterval]
    reactions: list[ReplayReaction]


async def replay_status(ctx: Context, space: Space) -> ReplayStatus | None:
    expires = recordings.expires_at(space, ctx.settings)
    if expires is None or space.state != SpaceState.ENDED:
        return None
    if space.recording_deleted_at is not None:
        return ReplayStatus(available=False, expires_at=None, deleted=True)
    return ReplayStatus(available=expires > ctx.clock.now(), expires_at=expires)


async def _listed(ctx: Context, spaces: list[Space], viewer: User | None) -> list[ListedSpace]:
    viewer_id = viewer.id if viewer else None
    listed = []
    async with ctx.transaction() as tx:
        for space in spaces:
            view = await space_view(
                tx.session, space, viewer_id=viewer_id, players=ctx.audience.players(space.id)
            )
            listed.append(
                ListedSpace.model_validate(
                    {**dict(view), "replay": await replay_status(ctx, space)}
                )
            )
    return listed


async def user_spaces(
    ctx: Context, *, handle: str, viewer: User | None, limit: int, offset: int
) -> list[ListedSpace]:
    """A person's hosted spaces: live first, then upcoming (soonest first), then past ones
    (latest ended first, each saying whether its replay exists and until when). Cancelled
    spaces are left out."""
    rank = case(
        (Space.state == SpaceState.LIVE, 0), (Space.state == SpaceState.SCHEDULED, 1), else_=2
    )
    soonest = case((Space.state == SpaceState.SCHEDULED, Space.scheduled_for), else_=None)
    async with ctx.transaction() as tx:
        host = await get_user_by_handle(tx.session, handle)
        rows = await tx.session.execute(
            select(Space)
            .where(
                Space.host_id == host.id,
                Space.state.in_([SpaceState.LIVE, SpaceState.SCHEDULED, SpaceState.ENDED]),
            )
            .order_by(
                rank,
                soonest,
                Space.ended_at.desc(),
                Space.started_at.desc(),
                Space.created_at.desc(),
                Space.id,
            )
            .limit(limit)
            .offset(offset)
        )
        spaces = list(rows.unique().scalars())
    return await _listed(ctx, spaces, viewer)


async def followed_replays(
    ctx: Context, *, viewer: User, limit: int, offset: int
) -> list[ListedSpace]:
    """Replays still available from the people ``viewer`` follows, latest ended first."""
    now = ctx.clock.now()
    oldest = now - recordings.retention(ctx.settings)
    async with ctx.transaction() as tx:
        rows = await tx.session.execute(
            select(Space)
            .join(Follow, Follow.followee_id == Space.host_id)
            .where(
                Follow.follower_id == viewer.id,
                Space.state == SpaceState.ENDED,
                Space.recording.is_(True),
                Space.recording_deleted_at.is_(None),
                Space.ended_at > oldest,
            )
            .order_by(Space.ended_at.desc(), Space.id)
            .limit(limit)
            .offset(offset)
        )
        spaces = list(rows.unique().scalars())
    return await _listed(ctx, spaces, viewer)


async def describe(ctx: Context, *, space_id: str, viewer: User | None) -> ReplayView:
    """A replay's timeline, for whoever may hear it (a ticketed space's: ticket holders,
    host and guests)."""
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id)
        expires = recordings.check_replayable(space, ctx.settings, now)
        await listening.check_may_hear(tx.session, space, viewer)
        reactions = list(
            (
                await tx.session.execute(
                    select(Reaction)
                    .where(Reaction.space_id == space.id)
                    .order_by(Reaction.created_at, Reaction.id)
                )
            ).scalars()
        )
        host = user_summary(space.host)
        ended_at = space.ended_at
    directory = ctx.settings.recordings_dir / space_id
    segments = recording_segments(directory)
    sidecar = read_timeline(directory)
    runs = [RunStart(first_msn=msn, at=at) for msn, at in sidecar.runs]
    spans = build_timeline(((s.msn, s.duration) for s in segments), runs, SEGMENT_SECONDS)
    assert ended_at is not None  # check_replayable
    spoken = replay_intervals(spans, speaking_intervals(sidecar.speaking, end=ended_at))
    placed = [
        ReplayReaction(emoji=r.emoji, user_id=r.user_id, at=round(offset, 3))
        for r in reactions
        if (offset := to_offset(spans, r.created_at)) is not None
    ]
    speaker_ids = sorted({i.user_id for i in spoken} - {host.id})
    async with ctx.transaction() as tx:
        others = [
            user_summary(u) for u in [await tx.session.get(User, i) for i in speaker_ids] if u
        ]
    return ReplayView(
        space_id=space_id,
        duration=round(sum(s.duration for s in segments), 3),
        gap_seconds=round(gap_seconds(recorded_msns(directory), SEGMENT_SECONDS), 3),
        expires_at=expires,
        people=[host, *others],
        speaking=[SpokenInterval(user_id=i.user_id, start=i.start, end=i.end) for i in spoken],
        reactions=placed,
    )
