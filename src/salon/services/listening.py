"""Who may hear a space and speak in it: signed listener tokens and stage admission."""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from salon.clock import Clock
from salon.domain import lifecycle
from salon.domain.errors import Forbidden
from salon.domain.lifecycle import SpaceState
from salon.domain.stage import STAGE_ROLES
from salon.services import tickets
from salon.services.context import Context
from salon.services.queries import find_participant, get_space, participant_view
from salon.store.models import User
from salon.views import ParticipantView, View


class ListenerTokens:
    """Signed, expiring tokens that open one space's audio URLs to one listener."""

    def __init__(self, secret: str, *, max_age: int, clock: Clock) -> None:
        self.max_age = max_age

        class _Signer(TimestampSigner):
            # Time comes from the injected clock, so expiry can be tested without waiting.
            def get_timestamp(self) -> int:
                return int(clock.now().timestamp())

        self._serializer = URLSafeTimedSerializer(secret, salt="salon.listener", signer=_Signer)

    def issue(self, *, space_id: str, user_id: int | None) -> str:
        return self._serializer.dumps({"s": space_id, "u": user_id})

    def check(self, token: str, *, space_id: str) -> int | None:
        """Return the listener's user id (None for anonymous) or raise Forbidden."""
        try:
            data = self._serializer.loads(token, max_age=self.max_age)
        except SignatureExpired:
            raise Forbidden("this listener token has expired; ask for a new one") from None
        except BadSignature:
            raise Forbidden("this listener token is not valid") from None
        if not isinstance(data, dict) or data.get("s") != space_id:
            raise Forbidden("this listener token is for another space")
        user_id = data.get("u")
        return user_id if isinstance(user_id, int) else None


class ListenTicket(View):
    space_id: str
    token: str
    expires_in: int
    #: The LL-HLS playlist to hand to a player (live, or the recording's VOD playlist).
    playlist_url: str


async def listen(ctx: Context, *, viewer: User | None, space_id: str) -> ListenTicket:
    """Issue a listener token for a live space, or for a recorded space's replay."""
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id)
        if viewer is not None:
            me = await find_participant(tx.session, space.id, viewer.id)
            if me is not None and me.removed_at is not None:
                raise Forbidden("you were removed from this space")
        # A ticketed space's audio is for ticket holders, the host, co-hosts, invited speakers.
        await tickets.check_admitted(tx.session, space, viewer)
        if space.state == SpaceState.ENDED and space.recording:
            playlist = f"/api/spaces/{space.id}/recording/index.m3u8"
        else:
            lifecycle.check_live(space.state)
            playlist = f"/api/spaces/{space.id}/hls/live.m3u8"
    token = ctx.listener_tokens.issue(space_id=space.id, user_id=viewer.id if viewer else None)
    return ListenTicket(
        space_id=space.id,
        token=token,
        expires_in=ctx.listener_tokens.max_age,
        playlist_url=f"{playlist}?token={token}",
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
