"""Where a request finds a live space's media: this node's room, or the node that runs it."""

from __future__ import annotations

from fastapi import Request, Response

from salon.api.forward import FORWARDED, Forwarder
from salon.domain.errors import NotFound
from salon.media.engine import MediaEngine
from salon.media.room import Room
from salon.ownership import MediaOwnership
from salon.services import media_leases
from salon.services.media_leases import Lease


def engine(request: Request) -> MediaEngine:
    found: MediaEngine = request.app.state.engine
    return found


async def live_room(request: Request, space_id: str, *, ended_too: bool = False) -> Room | Lease:
    """This node's room for a live space, or the lease of the node that runs it (to forward
    to); only when there is no room here is the database read.

    With ``ended_too``, a room that just ended is answered too: players fetch its last
    playlist (with EXT-X-ENDLIST) for a while after the end.
    """
    room = engine(request).room(space_id)
    if room is not None and (ended_too or not room.ended):
        return room
    found = await ownership(request).locate(space_id)
    if isinstance(found, Room) and found.ended and not ended_too:
        raise NotFound("this space is not live")
    return found


async def elsewhere(request: Request, space_id: str) -> Response | None:
    """The answer of the node that runs a space's media, when it is not this one and this
    request was not forwarded already (a WHIP or WHEP session lives on that node)."""
    if engine(request).room(space_id) is not None or request.headers.get(FORWARDED):
        return None
    owner = await media_leases.owner(request.app.state.ctx, space_id=space_id)
    if owner is None or owner.node == ownership(request).node:
        return None
    return await forwarder(request).forward(request, owner.url)


def ownership(request: Request) -> MediaOwnership:
    found: MediaOwnership = request.app.state.ownership
    return found


def forwarder(request: Request) -> Forwarder:
    found: Forwarder = request.app.state.forwarder
    return found
