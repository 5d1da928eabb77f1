"""Routes for hearing and speaking: listener tickets, WHIP for stage members, LL-HLS."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi import Path as FastApiPath
from pydantic import BaseModel

from salon.api.deps import Ctx, CurrentUser, MaybeUser
from salon.api.problems import COMMON_PROBLEMS, problem_responses
from salon.api.schemas import SpaceId
from salon.domain.errors import (
    BadRequest,
    Forbidden,
    Invalid,
    NotFound,
    TooLarge,
    Unavailable,
    UnsupportedMediaType,
)
from salon.domain.lifecycle import SpaceState
from salon.media.engine import MediaEngine
from salon.media.hls.recorder import vod_playlist
from salon.media.hls.stream import LiveStream, TooFarAhead
from salon.media.hls.stream import Timeout as WaitTimeout
from salon.media.peer import UnusableOffer
from salon.media.room import Room
from salon.services import listening, recordings, spaces
from salon.services.context import Context
from salon.services.listening import ListenTicket

router = APIRouter(prefix="/api/spaces/{space_id}", tags=["media"], responses=COMMON_PROBLEMS)

SDP = "application/sdp"
MAX_OFFER_BYTES = 64 * 1024


def _engine(request: Request) -> MediaEngine:
    engine: MediaEngine = request.app.state.engine
    return engine


@router.get("/listen")
async def listen(space_id: SpaceId, ctx: Ctx, viewer: MaybeUser) -> ListenTicket:
    """A signed, expiring ticket to this space's audio (the LL-HLS playlist URL with its token)."""
    return await listening.listen(ctx, viewer=viewer, space_id=space_id)


@router.post(
    "/whip",
    status_code=201,
    response_class=Response,
    openapi_extra={
        "requestBody": {"required": True, "content": {SDP: {"schema": {"type": "string"}}}}
    },
    responses={
        201: {
            "description": "The SDP answer; Location is the session to DELETE to hang up",
            "content": {SDP: {"schema": {"type": "string"}}},
        },
        **problem_responses(413, 415),
    },
)
async def whip_offer(
    space_id: SpaceId,
    request: Request,
    ctx: Ctx,
    user: CurrentUser,
    content_type: Annotated[str, Header()] = "",
) -> Response:
    """Speak: POST a WebRTC SDP offer (WHIP, RFC 9725); only stage members may.

    One bidirectional audio connection: your microphone up, everyone else's mix down.
    A new offer from the same person replaces their previous connection (a reconnect).
    """
    if content_type.split(";")[0].strip().lower() != SDP:
        raise UnsupportedMediaType("send the offer as application/sdp")
    body = await request.body()
    if len(body) > MAX_OFFER_BYTES:
        raise TooLarge(f"an SDP offer is at most {MAX_OFFER_BYTES} bytes")
    me = await listening.check_can_speak(ctx, actor=user, space_id=space_id)
    room = await _live_room(request, ctx, space_id)
    try:
        peer = await room.connect(user.id, body.decode("utf-8", "replace"), muted=me.muted)
    except UnusableOffer as exc:
        raise Invalid(str(exc)) from None
    return Response(
        peer.answer_sdp,
        status_code=201,
        media_type=SDP,
        headers={"Location": f"/api/spaces/{space_id}/whip/{peer.session_id}"},
    )


class IceServer(BaseModel):
    urls: str | list[str]
    username: str | None = None
    credential: str | None = None


@router.get("/ice-servers")
async def ice_servers(space_id: SpaceId, ctx: Ctx, user: CurrentUser) -> list[IceServer]:
    """The STUN/TURN servers to give a speaking connection before its offer (no trickle ICE)."""
    return [IceServer.model_validate(server) for server in ctx.settings.ice_servers]


@router.delete("/whip/{session_id}", status_code=204, response_class=Response)
async def whip_hang_up(
    space_id: SpaceId, session_id: str, request: Request, user: CurrentUser
) -> Response:
    """Hang up a speaking connection (only its owner can)."""
    room = _engine(request).room(space_id)
    if room is None or not await room.hang_up(user.id, session_id):
        raise NotFound("no such speaking session")
    return Response(status_code=204)


PLAYLIST = "application/vnd.apple.mpegurl"
MP4 = "video/mp4"
#: Media never changes once published: any cache may keep it.
IMMUTABLE = "public, max-age=31536000, immutable"
PLAYLIST_CACHE = "no-cache"
BLOCKED_CACHE = "public, max-age=6"
HLS_NAME = r"^(live\.m3u8|init\.mp4|seg\d{1,9}\.m4s|part\d{1,9}\.\d{1,4}\.m4s)$"
_MEDIA = re.compile(r"^(?:seg(\d+)|part(\d+)\.(\d+))\.m4s$")


@router.get(
    "/hls/{name}",
    response_class=Response,
    responses={
        200: {
            "description": "The LL-HLS playlist, the init segment, a segment or a part",
            "content": {PLAYLIST: {"schema": {"type": "string"}}, MP4: {}},
        },
        **problem_responses(503),
    },
)
async def hls(
    space_id: SpaceId,
    name: Annotated[str, FastApiPath(pattern=HLS_NAME)],
    request: Request,
    ctx: Ctx,
    token: ListenerToken = None,
    hls_msn: Annotated[int | None, Query(alias="_HLS_msn", ge=0, le=2**31)] = None,
    hls_part: Annotated[int | None, Query(alias="_HLS_part", ge=0, le=10_000)] = None,
) -> Response:
    """The live LL-HLS stream (RFC 8216bis), opened by a listener token from ``/listen``.

    ``live.m3u8`` supports blocking reload (``_HLS_msn``/``_HLS_part``): the answer waits
    until that part exists (400 when asked too far ahead, 503 when it does not come in
    time). A request for the part the playlist hints at waits for it too.
    """
    token = _admit(ctx, token, space_id)
    stream = await _live_stream(request, ctx, space_id)
    if name == "live.m3u8":
        if hls_part is not None and hls_msn is None:
            raise BadRequest("_HLS_part needs _HLS_msn")
        if hls_msn is not None:
            await _wait(stream, hls_msn, hls_part)
        return Response(
            stream.playlist(query=f"token={token}"),
            media_type=PLAYLIST,
            # A blocking-reload URL names one moment of the stream; a plain one is always news.
            headers=_cached(PLAYLIST_CACHE if hls_msn is None else BLOCKED_CACHE),
        )
    if name == "init.mp4":
        return Response(stream.init, media_type=MP4, headers=_cached(IMMUTABLE))
    match = _MEDIA.match(name)
    assert match is not None  # the path pattern guarantees it
    if match.group(1) is not None:
        data = stream.segment(int(match.group(1)))
    else:
        msn, index = int(match.group(2)), int(match.group(3))
        data = stream.part(msn, index)
        if data is None and stream.is_upcoming(msn, index):
            await _wait(stream, msn, index)  # the preload-hinted part: hold until published
            data = stream.part(msn, index)
    if data is None:
        raise NotFound(f"{name} is not in the live window")
    return Response(data, media_type=MP4, headers=_cached(IMMUTABLE))


ListenerToken = Annotated[
    str | None,
    Query(min_length=1, max_length=1000, description="The listener token from /listen"),
]


def _admit(ctx: Context, token: str | None, space_id: str) -> str:
    """Audio URLs open only with a valid listener token for this space (403 otherwise)."""
    if token is None:
        raise Forbidden("audio URLs need a listener token: ask GET /api/spaces/{id}/listen")
    ctx.listener_tokens.check(token, space_id=space_id)
    return token


def _cached(cache_control: str) -> dict[str, str]:
    # Players on other origins (embeds, CDNs) may fetch audio: the token in the URL, not a
    # cookie, is what opens it, so allowing any origin gives nothing away.
    return {"Cache-Control": cache_control, "Access-Control-Allow-Origin": "*"}


async def _live_stream(request: Request, ctx: Context, space_id: str) -> LiveStream:
    room = _engine(request).room(space_id)
    return room.stream if room is not None else (await _live_room(request, ctx, space_id)).stream


async def _live_room(request: Request, ctx: Context, space_id: str) -> Room:
    """This node's room for a live space (only the first request reads the database)."""
    engine = _engine(request)
    room = engine.room(space_id)
    if room is None or room.ended:
        space = await spaces.get(ctx, space_id=space_id, viewer=None)
        if space.state != SpaceState.LIVE:
            raise NotFound("this space is not live")
        room = engine.open_room(space_id, recording=space.recording)
    return room


REPLAY_NAME = r"^(index\.m3u8|init\.mp4|seg\d{1,9}\.m4s)$"


@router.get(
    "/recording/{name}",
    response_class=Response,
    responses={
        200: {
            "description": "The recording's VOD playlist, init segment or a segment",
            "content": {PLAYLIST: {"schema": {"type": "string"}}, MP4: {}},
        }
    },
)
async def replay(
    space_id: SpaceId,
    name: Annotated[str, FastApiPath(pattern=REPLAY_NAME)],
    ctx: Ctx,
    token: ListenerToken = None,
) -> Response:
    """Replay a recorded space (VOD HLS), for the configured number of days after it ended."""
    token = _admit(ctx, token, space_id)
    directory = await recordings.directory(ctx, space_id=space_id)
    if name == "index.m3u8":
        return Response(
            vod_playlist(directory, query=f"token={token}"),
            media_type=PLAYLIST,
            headers=_cached("public, max-age=60"),
        )
    path = directory / name
    if not path.is_file():
        raise NotFound(f"{name} is not part of this recording")
    return Response(path.read_bytes(), media_type=MP4, headers=_cached(IMMUTABLE))


async def _wait(stream: LiveStream, msn: int, part: int | None) -> None:
    try:
        await stream.wait_for(msn, part, timeout=3 * stream.target_duration)
    except TooFarAhead:
        raise BadRequest("that part is too far in the future") from None
    except WaitTimeout:
        raise Unavailable("that part did not arrive in time") from None
