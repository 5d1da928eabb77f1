"""Where a request finds a live space's media: this node's room, or the node that runs it."""

from __future__ import annotations

from fastapi import Request

from salon.api.forward import Forwarder
from salon.domain.errors import NotFound
from salon.media.engine import MediaEngine
from salon.media.room import Room
from salon.ownership import MediaOwnership
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


def ownership(request: Request) -> MediaOwnership:
    found: MediaOwnership = request.app.state.ownership
    return found


def forwarder(request: Request) -> Forwarder:
    found: Forwarder = request.app.state.forwarder
    return found
