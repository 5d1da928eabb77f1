"""Who may hear a space and speak in it: where its audio is, credentials, stage admission."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from salon.domain import lifecycle
from salon.domain.errors import Forbidden, Gone
from salon.domain.lifecycle import SpaceState
from salon.domain.stage import STAGE_ROLES
from salon.events.types import SpeakerReplaced
from salon.media.hls.recorder import gap_seconds, recorded_msns
from salon.media.hls.stream import SEGMENT_SECONDS
from salon.services import tickets
from salon.services.context import Context
from salon.services.queries import find_participant, get_space, participant_view
from salon.store.models import Space, User
from salon.views import ParticipantView, View


class AudioAccess(View):
    """Where a space's audio is, and what opens it.

    A free space's audio is as public as its page: the playlist needs no credential, so any
    cache shares it. A ticketed space's playlist URL carries a short-lived credential in its
    path; ask again before ``expires_in`` runs out to keep listening.
    """

    space_id: str
    #: The LL-HLS playlist to hand to a player (live, or the recording's VOD playlist).
    playlist_url: str
    #: The path segment that opens a ticketed space's audio; None for a free space.
    credential: str | None
    #: Seconds the credential lives; None when there is nothing to renew.
    expires_in: int | None
    #: True when the playlist is the recording's replay rather than the live stream.
    replay: bool
    #: A replay's audio lost while the space's media restarted or moved to another node
    #: (the playlist marks each hole with EXT-X-DISCONTINUITY); 0 when whole, or live.
    gap_seconds: float = 0.0


async def listen(ctx: Context, *, viewer: User | None, space_id: str) -> AudioAccess:
    """Where to hear a live space, or a recorded space's replay, and the credential if needed.

    Removal, a ban or a refund stop a ticketed space's audio: this refuses them, and the
    credential they hold expires within ``audio_credential_seconds``. A free space's audio is
    public, so removal takes away its stage, events and presence, not its sound.
    """
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id)
        await check_may_hear(tx.session, space, viewer)
        replay = space.state == SpaceState.ENDED and space.recording
        if replay and space.recording_deleted_at is not None:
            raise Gone("the host deleted this recording")
        if not replay:
            lifecycle.check_live(space.state)
    credential: str | None = None
    expires_in: int | None = None
    base = f"/api/spaces/{space.id}/{'recording' if replay else 'hls'}"
    if space.ticketed:
        assert viewer is not None  # check_admitted refuses anonymous listeners
        credential = str(ctx.audio_credentials.issue(space_id=space.id, user_id=viewer.id))
        expires_in = ctx.audio_credentials.lifetime
        base += f"/{credential}"
    playlist = "index.m3u8" if replay else "live.m3u8"
    gap = 0.0
    if replay:
        msns = recorded_msns(ctx.settings.recordings_dir / space.id)
        gap = round(gap_seconds(msns, SEGMENT_SECONDS), 3)
    return AudioAccess(
        space_id=space.id,
        playlist_url=f"{base}/{playlist}",
        credential=credential,
        expires_in=expires_in,
        replay=replay,
        gap_seconds=gap,
    )


async def check_can_speak(ctx: Context, *, actor: User, space_id: str) -> ParticipantView:
    """Only present stage members of a live space may open a speaking connection."""
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id)
        lifecycle.check_live(space.state)
        me = await find_participant(tx.session, space.id, actor.id)
        if me is None or not me.present or me.role not in STAGE_ROLES:
            raise Forbidden("only people on the stage can speak; request to speak first")
        return participant_view(me)


async def check_can_watch(ctx: Context, *, viewer: User | None, space_id: str) -> None:
    """WHEP: anyone who may hear a live space, signed out too for a free one, but never
    someone a host removed from it. (A WHEP session is a connection to the space, like its
    event stream, which removal takes away; the public LL-HLS stays public.)"""
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id)
        lifecycle.check_live(space.state)
        await check_may_hear(tx.session, space, viewer)
        if viewer is not None:
            me = await find_participant(tx.session, space.id, viewer.id)
            if me is not None and me.removed_at is not None:
                raise Forbidden("you were removed from this space")


async def announce_replaced(ctx: Context, *, space_id: str, user_id: int, session_id: str) -> None:
    """A newer speaking connection of ``user_id`` ends ``session_id``: tell that person's
    event streams (only theirs) before it goes, so the device holding it stops offering."""
    await ctx.bus.publish(
        SpeakerReplaced(
            space_id=space_id, at=ctx.clock.now(), user_id=user_id, session_id=session_id
        )
    )


async def check_may_hear(session: AsyncSession, space: Space, viewer: User | None) -> None:
    """A ticketed space's audio, live or replayed, is for ticket holders, host, co-hosts and
    invited speakers, never for someone the host removed; a free space's is for anyone."""
    if not space.ticketed:
        return
    if viewer is not None:
        me = await find_participant(session, space.id, viewer.id)
        if me is not None and me.removed_at is not None:
            raise Forbidden("you were removed from this space")
    await tickets.check_admitted(session, space, viewer)
