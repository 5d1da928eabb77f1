"""WHIP (RFC 9725): stage members publish their microphone, and hear the stage, over WebRTC.

``POST /whip`` takes an SDP offer and answers 201 with the SDP answer, the session's
``Location`` (DELETE it to hang up, PATCH it to trickle ICE candidates), an ``ETag`` and the
ICE servers as ``Link`` headers. ``OPTIONS`` says what is accepted; GET, HEAD and PUT are 405.
Cross-origin pages (``SALON_WHIP_ALLOWED_ORIGINS``) use it with a bearer token: see
``webrtc_http.WebRtcCors``.
"""

from __future__ import annotations

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel

from salon.api.deps import Ctx, CurrentUser, MaybeUser
from salon.api.problems import COMMON_PROBLEMS, problem_responses
from salon.api.rooms import elsewhere, engine, forwarder, live_room
from salon.api.schemas import SpaceId
from salon.api.webrtc_http import (
    ENDPOINT_METHODS,
    FRAGMENT_BODY,
    OFFER_BODY,
    SDP,
    created,
    ice_server_links,
    read_offer,
    session_options,
    trickle,
    with_links,
)
from salon.domain.errors import Gone, Invalid, NotFound
from salon.media.offer import UnusableOffer
from salon.media.peer import StagePeer
from salon.media.room import Room
from salon.services import listening

router = APIRouter(prefix="/api/spaces/{space_id}", tags=["media"], responses=COMMON_PROBLEMS)


@router.post(
    "/whip",
    status_code=201,
    response_class=Response,
    openapi_extra=OFFER_BODY,
    responses={
        201: {
            "description": "The SDP answer; Location is the session (PATCH to trickle ICE, "
            "DELETE to hang up); Link headers name the ICE servers",
            "content": {SDP: {"schema": {"type": "string"}}},
        },
        **problem_responses(413, 415),
    },
)
async def whip_offer(space_id: SpaceId, request: Request, ctx: Ctx, user: CurrentUser) -> Response:
    """Speak: POST a WebRTC SDP offer (WHIP, RFC 9725); only stage members may.

    One bidirectional audio connection: your microphone up, everyone else's mix down.
    A new offer from the same person replaces their previous connection: newest wins (a
    reconnect, or another tab, device or bot); the replaced one's owner gets a
    ``speaker_replaced`` event naming the ended session on their event stream.
    """
    offer = await read_offer(request)
    me = await listening.check_can_speak(ctx, actor=user, space_id=space_id)
    room = await live_room(request, space_id)
    if not isinstance(room, Room):
        return await forwarder(request).forward(request, room.url)
    previous = room.peers.get(user.id)
    if previous is not None:  # newest wins: the other device is told before it is cut off
        await listening.announce_replaced(
            ctx, space_id=space_id, user_id=user.id, session_id=previous.session_id
        )
    try:
        peer = await room.connect(user.id, offer, muted=me.muted)
    except UnusableOffer as exc:
        raise Invalid(str(exc)) from None
    location = f"/api/spaces/{space_id}/whip/{peer.session_id}"
    return created(peer, location, ctx.settings.ice_servers)


@router.options("/whip", status_code=204, response_class=Response)
async def whip_options(space_id: SpaceId, ctx: Ctx, viewer: MaybeUser) -> Response:
    """What the WHIP endpoint takes (``Accept-Post``); signed in, also its ICE servers."""
    response = Response(status_code=204, headers={"Accept-Post": SDP, "Allow": ENDPOINT_METHODS})
    return with_links(response, ice_server_links(ctx.settings.ice_servers) if viewer else [])


class IceServer(BaseModel):
    urls: str | list[str]
    username: str | None = None
    credential: str | None = None


@router.get("/ice-servers")
async def ice_servers(space_id: SpaceId, ctx: Ctx, user: CurrentUser) -> list[IceServer]:
    """The STUN/TURN servers to give a speaking connection before its offer (the same as the
    ``Link`` headers of the WHIP answer)."""
    return [IceServer.model_validate(server) for server in ctx.settings.ice_servers]


@router.patch(
    "/whip/{session_id}",
    status_code=204,
    response_class=Response,
    openapi_extra=FRAGMENT_BODY,
    responses=problem_responses(410, 412, 415, 501),
)
async def whip_trickle(
    space_id: SpaceId,
    session_id: str,
    request: Request,
    user: CurrentUser,
    if_match: str | None = Header(default=None),
) -> Response:
    """Trickle ICE (RFC 8840 fragment): more of your candidates, or the end of them.

    An ICE restart (new ``ice-ufrag``) is not supported: 501, and the client offers anew.
    """
    found = await _session(request, space_id, user.id, session_id)
    if isinstance(found, Response):
        return found
    return await trickle(request, found, if_match)


@router.options("/whip/{session_id}", status_code=204, response_class=Response)
async def whip_session_options(space_id: SpaceId, session_id: str) -> Response:
    return session_options()


@router.delete(
    "/whip/{session_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(410),
)
async def whip_hang_up(
    space_id: SpaceId, session_id: str, request: Request, user: CurrentUser
) -> Response:
    """Hang up a speaking connection (only its owner can). A session that already ended
    answers 410 saying why (the connection failed, a newer one replaced it, ...)."""
    found = await _session(request, space_id, user.id, session_id)
    if isinstance(found, Response):
        return found
    await found.close()
    return Response(status_code=204)


async def _session(
    request: Request, space_id: str, user_id: int, session_id: str
) -> StagePeer | Response:
    """The caller's live session here, the answer of the node that holds it, or an error
    saying why it is gone."""
    forwarded = await elsewhere(request, space_id)
    if forwarded is not None:
        return forwarded
    room = engine(request).room(space_id)
    if room is not None:
        peer = room.session(user_id, session_id)
        if peer is not None and not peer.ending:
            return peer
        # One being hung up has ended too (its client may have seen it go already).
        why = peer.ended_why if peer is not None else room.ended_sessions.why(session_id)
        if why is not None:
            raise Gone(f"this speaking session ended: {why}")
    raise NotFound("no such speaking session")
