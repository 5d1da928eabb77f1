"""Routes for hearing and speaking: where the audio is, WHIP for stage members, LL-HLS."""

from __future__ import annotations

import hashlib
from email.utils import format_datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as FastApiPath

from salon.api.deps import Ctx, MaybeUser
from salon.api.hls_live import (
    EDGE_HEADER,
    MP4,
    PLAYLIST,
    answer_live,
)
from salon.api.problems import COMMON_PROBLEMS, problem_responses
from salon.api.rooms import engine, forwarder, live_room
from salon.api.schemas import SpaceId
from salon.domain.audio_credentials import PATTERN as CREDENTIAL_PATTERN
from salon.domain.errors import (
    Forbidden,
    NotFound,
)
from salon.media.engine import MediaEngine
from salon.media.hls.playlist import INIT_URI
from salon.media.hls.recorder import chunk_files, vod_playlist
from salon.media.room import Room
from salon.services import listening, recordings
from salon.services.listening import AudioAccess
from salon.services.recordings import Recording

router = APIRouter(prefix="/api/spaces/{space_id}", tags=["media"], responses=COMMON_PROBLEMS)


@router.get("/listen", responses=problem_responses(410))
async def listen(space_id: SpaceId, ctx: Ctx, viewer: MaybeUser) -> AudioAccess:
    """Where to hear this space: its LL-HLS playlist (or replay), and for a ticketed space the
    short-lived credential in that URL's path (ask again before ``expires_in`` runs out)."""
    return await listening.listen(ctx, viewer=viewer, space_id=space_id)


#: A replay may be deleted by its host at any moment: a cache keeps it only by asking first
#: (``no-cache`` with an ETag: a 304 costs no body), so nothing outlives a deletion.
REPLAY_CACHE = "public, no-cache"
HLS_NAME = r"^(live\.m3u8|init\.mp4|seg\d{1,9}\.m4s|part\d{1,9}\.\d{1,4}\.m4s)$"
REPLAY_NAME = r"^(index\.m3u8|init\.mp4|seg\d{1,9}\.m4s|seg\d{1,9}-\d{1,9}\.m4s)$"

HlsName = Annotated[str, FastApiPath(pattern=HLS_NAME)]
ReplayName = Annotated[str, FastApiPath(pattern=REPLAY_NAME)]
Credential = Annotated[
    str,
    FastApiPath(
        pattern=f"^{CREDENTIAL_PATTERN}$",
        description="A ticketed space's audio credential, from /listen",
    ),
]
HlsMsn = Annotated[int | None, Query(alias="_HLS_msn", ge=0, le=2**31)]
HlsPart = Annotated[int | None, Query(alias="_HLS_part", ge=0, le=10_000)]

_AUDIO_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A playlist, the init segment, a segment or a part",
        "content": {PLAYLIST: {"schema": {"type": "string"}}, MP4: {}},
    },
    **problem_responses(410, 503),
}


@router.get("/hls/{name}", response_class=Response, responses=_AUDIO_RESPONSES)
async def hls(
    space_id: SpaceId,
    name: HlsName,
    request: Request,
    ctx: Ctx,
    hls_msn: HlsMsn = None,
    hls_part: HlsPart = None,
) -> Response:
    """A free space's live LL-HLS stream (RFC 8216bis): public, the same bytes for everyone.

    ``live.m3u8`` supports blocking reload (``_HLS_msn``/``_HLS_part``): the answer waits
    until that part exists (400 when asked too far ahead, 503 when it does not come in
    time). A request for the part the playlist hints at waits for it too. A ticketed space
    answers only under its credential's path (403 here).
    """
    room = await live_room(request, space_id, ended_too=True)
    if not isinstance(room, Room):
        return await forwarder(request).forward(request, room.url)
    if room.ticketed:
        raise Forbidden("this space is ticketed: its audio URLs come from GET /listen")
    return await _serve_live(request, space_id, room, name, hls_msn, hls_part)


@router.get("/hls/{credential}/{name}", response_class=Response, responses=_AUDIO_RESPONSES)
async def hls_with_credential(
    space_id: SpaceId,
    credential: Credential,
    name: HlsName,
    request: Request,
    ctx: Ctx,
    hls_msn: HlsMsn = None,
    hls_part: HlsPart = None,
) -> Response:
    """A ticketed space's live LL-HLS stream, opened by the credential in the path.

    The same stream and bytes as the free route; the edge checks the credential before its
    cache (nginx ``secure_link``), and this origin checks it again.
    """
    ctx.audio_credentials.check(credential, space_id=space_id)
    room = await live_room(request, space_id, ended_too=True)
    if not isinstance(room, Room):
        return await forwarder(request).forward(request, room.url)
    return await _serve_live(request, space_id, room, name, hls_msn, hls_part)


def _via_edge(request: Request) -> bool:
    return request.headers.get(EDGE_HEADER) == "1"


async def _serve_live(
    request: Request, space_id: str, room: Room, name: str, msn: int | None, part: int | None
) -> Response:
    answer = await answer_live(
        engine(request), space_id, room.stream, name, msn, part, via_edge=_via_edge(request)
    )
    return Response(
        answer.body, media_type=answer.media_type, headers=_cached(answer.cache_control)
    )


def _cached(cache_control: str) -> dict[str, str]:
    # Audio URLs are opened by their path (public, or a credential in it), never by a cookie,
    # so players on other origins (embeds, CDNs) may fetch them.
    return {"Cache-Control": cache_control, "Access-Control-Allow-Origin": "*"}


@router.get("/recording/{name}", response_class=Response, responses=_AUDIO_RESPONSES)
async def replay(space_id: SpaceId, name: ReplayName, request: Request, ctx: Ctx) -> Response:
    """Replay a free recorded space (VOD HLS), for the configured number of days after it
    ended. A ticketed space's replay answers only under its credential's path."""
    recording = await recordings.find(ctx, space_id=space_id)
    if recording.ticketed:
        raise Forbidden("this space is ticketed: its replay URLs come from GET /listen")
    return _serve_replay(engine(request), recording, name, request.headers.get("if-none-match"))


@router.get("/recording/{credential}/{name}", response_class=Response, responses=_AUDIO_RESPONSES)
async def replay_with_credential(
    space_id: SpaceId, credential: Credential, name: ReplayName, request: Request, ctx: Ctx
) -> Response:
    """Replay a ticketed recorded space, opened by the credential in the path."""
    ctx.audio_credentials.check(credential, space_id=space_id)
    recording = await recordings.find(ctx, space_id=space_id)
    return _serve_replay(engine(request), recording, name, request.headers.get("if-none-match"))


def _serve_replay(
    engine: MediaEngine, recording: Recording, name: str, if_none_match: str | None
) -> Response:
    engine.count_hls("replay")
    if name == "index.m3u8":
        body = vod_playlist(recording.directory).encode()
        media_type = PLAYLIST
    elif name == INIT_URI:
        path = recording.directory / name
        if not path.is_file():
            raise NotFound(f"{name} is not part of this recording")
        body, media_type = path.read_bytes(), MP4
    else:
        files = chunk_files(recording.directory, name)
        if files is None:
            raise NotFound(f"{name} is not part of this recording")
        body, media_type = b"".join(path.read_bytes() for path in files), MP4
    tag = f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
    headers = {
        **_cached(REPLAY_CACHE),
        "ETag": tag,
        "Expires": format_datetime(recording.expires_at, usegmt=True),
    }
    if if_none_match is not None and tag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)
