"""WHEP: listen to a live space's program mix over WebRTC, for sub-second listening and for
restreamers (the WHEP draft of the IETF WISH group, the egress twin of WHIP's RFC 9725).

``POST /whep`` takes a receive-only SDP offer from anyone who may hear the space (signed out
too, for a free one) and answers 201 with the SDP answer, the session's ``Location`` (DELETE
it to hang up, PATCH it to trickle ICE), an ``ETag`` and ``Link`` headers for the ICE servers.
The mix is Opus-encoded once per space for every WHEP listener; each node serves at most
``SALON_WHEP_MAX_VIEWERS`` of them, so listening can never starve the stage: past that, 503
and the LL-HLS address to listen at instead. The session URL is its capability (as in Janus
and mediamtx): whoever holds it may hang it up. Removal, a ban or a refund hang up the
person's sessions at once (the media engine, on the space's events).
"""

from __future__ import annotations

from fastapi import APIRouter, Header, Request, Response

from salon.api.deps import Ctx, MaybeUser
from salon.api.problems import COMMON_PROBLEMS, problem, problem_responses
from salon.api.rooms import elsewhere, engine, forwarder, live_room
from salon.api.schemas import SpaceId
from salon.api.webrtc_http import (
    ENDPOINT_METHODS,
    FRAGMENT_BODY,
    OFFER_BODY,
    SDP,
    created,
    read_offer,
    session_options,
    trickle,
)
from salon.domain.errors import Gone, Invalid, NotFound
from salon.media.engine import WhepFull
from salon.media.offer import UnusableOffer
from salon.media.room import Room
from salon.media.viewer import ProgramViewer
from salon.services import listening

router = APIRouter(prefix="/api/spaces/{space_id}", tags=["media"], responses=COMMON_PROBLEMS)

#: How soon to ask again when this node's WHEP listeners are full.
FULL_RETRY_AFTER_SECONDS = 30


@router.post(
    "/whep",
    status_code=201,
    response_class=Response,
    openapi_extra=OFFER_BODY,
    responses={
        201: {
            "description": "The SDP answer; Location is the session (PATCH to trickle ICE, "
            "DELETE to hang up); Link headers name the ICE servers",
            "content": {SDP: {"schema": {"type": "string"}}},
        },
        **problem_responses(413, 415, 503),
    },
)
async def whep_offer(space_id: SpaceId, request: Request, ctx: Ctx, viewer: MaybeUser) -> Response:
    """Listen over WebRTC: POST a receive-only SDP offer (WHEP) and get the program mix.

    503 (with ``Retry-After`` and the LL-HLS playlist in ``Link: <…>; rel="alternate"``)
    when this node already serves its most WHEP listeners: listen over LL-HLS instead.
    """
    offer = await read_offer(request)
    await listening.check_can_watch(ctx, viewer=viewer, space_id=space_id)
    room = await live_room(request, space_id)
    if not isinstance(room, Room):
        return await forwarder(request).forward(request, room.url)
    try:
        session = await engine(request).watch(
            space_id, offer, user_id=viewer.id if viewer is not None else None
        )
    except UnusableOffer as exc:
        raise Invalid(str(exc)) from None
    except LookupError:  # the space ended (or its media moved) while the offer came in
        raise NotFound("this space is not live here any more: offer again") from None
    except WhepFull as full:
        hls = await listening.listen(ctx, viewer=viewer, space_id=space_id)
        return problem(
            503,
            "WebRTC listening is full here",
            f"{full}: listen over LL-HLS at {hls.playlist_url}",
            headers={
                "Retry-After": str(FULL_RETRY_AFTER_SECONDS),
                "Link": f'<{hls.playlist_url}>; rel="alternate"; '
                'type="application/vnd.apple.mpegurl"',
            },
        )
    location = f"/api/spaces/{space_id}/whep/{session.session_id}"
    return created(session, location, ctx.settings.ice_servers)


@router.options("/whep", status_code=204, response_class=Response)
async def whep_options(space_id: SpaceId) -> Response:
    """What the WHEP endpoint takes (``Accept-Post``)."""
    return Response(status_code=204, headers={"Accept-Post": SDP, "Allow": ENDPOINT_METHODS})


@router.patch(
    "/whep/{session_id}",
    status_code=204,
    response_class=Response,
    openapi_extra=FRAGMENT_BODY,
    responses=problem_responses(410, 412, 415, 501),
)
async def whep_trickle(
    space_id: SpaceId,
    session_id: str,
    request: Request,
    if_match: str | None = Header(default=None),
) -> Response:
    """Trickle ICE (RFC 8840 fragment) into a listening session; ICE restarts are 501."""
    found = await _session(request, space_id, session_id)
    if isinstance(found, Response):
        return found
    return await trickle(request, found, if_match)


@router.options("/whep/{session_id}", status_code=204, response_class=Response)
async def whep_session_options(space_id: SpaceId, session_id: str) -> Response:
    return session_options()


@router.delete(
    "/whep/{session_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(410),
)
async def whep_hang_up(space_id: SpaceId, session_id: str, request: Request) -> Response:
    """Stop listening. A session that already ended answers 410 saying why."""
    found = await _session(request, space_id, session_id)
    if isinstance(found, Response):
        return found
    await found.close()
    return Response(status_code=204)


async def _session(request: Request, space_id: str, session_id: str) -> ProgramViewer | Response:
    forwarded = await elsewhere(request, space_id)
    if forwarded is not None:
        return forwarded
    room = engine(request).room(space_id)
    if room is not None:
        viewer = room.viewers.get(session_id)
        if viewer is not None and not viewer.ending:
            return viewer
        # One being hung up has ended too (its client may have seen it go already).
        why = viewer.ended_why if viewer is not None else room.ended_sessions.why(session_id)
        if why is not None:
            raise Gone(f"this listening session ended: {why}")
    raise NotFound("no such listening session")
