"""The live event stream of a space, over a WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from salon.api.deps import SESSION_COOKIE, authenticate
from salon.api.middleware import origin_allowed
from salon.api.schemas import SPACE_ID_PATTERN
from salon.domain.errors import DomainError, Forbidden
from salon.events.bus import SlowConsumer, Subscription
from salon.events.types import (
    ParticipantLeft,
    Snapshot,
    SpaceCancelled,
    SpaceEnded,
    addressed_to,
)
from salon.media.engine import MediaEngine
from salon.metrics import WS_CONNECTIONS
from salon.services import presence, spaces, tickets
from salon.services.connections import Connections
from salon.services.context import Context
from salon.store.models import User

log = logging.getLogger(__name__)
router = APIRouter()

#: Close codes (4000-4999 are the application's own).
CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008
CLOSE_TRY_AGAIN = 1013
CLOSE_NOT_FOUND = 4404
CLOSE_REMOVED = 4403
CLOSE_UNAUTHORIZED = 4401
#: A close frame's reason is at most 123 bytes (RFC 6455, 5.5).
MAX_CLOSE_REASON = 123
_SPACE_ID = re.compile(SPACE_ID_PATTERN)  # as the REST routes check it


@router.websocket("/api/spaces/{space_id}/events")
async def space_events(websocket: WebSocket, space_id: str) -> None:
    """Typed JSON events for one space: a ``snapshot`` first, then every change as it commits.

    Authenticate with the session cookie, an ``Authorization: Bearer`` header, or ``?token=``.
    A client that falls more than a queue behind is disconnected (code 1013) rather than
    slowing anyone else down.
    """
    ctx: Context = websocket.app.state.ctx
    connections: Connections = websocket.app.state.connections
    # Refusals are sent as close codes after accepting: a refused handshake reaches a
    # browser only as close 1006, which says nothing (the client would retry forever).
    await websocket.accept()
    if not origin_allowed(websocket.headers, ctx.settings.allowed_origins):
        await _close(websocket, CLOSE_POLICY, "cross-site event streams are not allowed")
        return
    if _SPACE_ID.fullmatch(space_id) is None:
        await _close(websocket, CLOSE_NOT_FOUND, "no such space")
        return
    try:
        user = await _authenticate(websocket, ctx)
    except DomainError as exc:
        await _close(websocket, CLOSE_UNAUTHORIZED, exc.detail)
        return
    subscription = ctx.bus.subscribe(space_id)
    WS_CONNECTIONS.inc()
    try:
        if subscription.overflowed:  # the bus cannot deliver now (a node without Redis)
            await _close(websocket, CLOSE_TRY_AGAIN, subscription.cut_reason)
            return
        try:
            engine: MediaEngine = websocket.app.state.engine
            snapshot = await _snapshot(ctx, space_id, user, engine.speaking(space_id))
        except Forbidden as exc:
            # Removed, or a ticketed space without a ticket: the same code either way.
            await _close(websocket, CLOSE_REMOVED, exc.detail)
            return
        except DomainError as exc:
            await _close(websocket, CLOSE_NOT_FOUND, exc.detail)
            return
        await websocket.send_text(snapshot.model_dump_json())
        if user is not None:
            await connections.opened(space_id=space_id, user_id=user.id)
        try:
            await _pump(websocket, subscription, user)
        finally:
            if user is not None:
                await connections.closed(space_id=space_id, user_id=user.id)
    finally:
        ctx.bus.unsubscribe(subscription)
        WS_CONNECTIONS.dec()


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    """Close with ``code``; the reason cut to what a close frame holds (123 bytes)."""
    data = reason.encode()
    if len(data) > MAX_CLOSE_REASON:
        reason = data[: MAX_CLOSE_REASON - 3].decode(errors="ignore") + "..."
    await websocket.close(code, reason)


async def _authenticate(websocket: WebSocket, ctx: Context) -> User | None:
    auth = websocket.headers.get("authorization", "")
    bearer = auth[7:] if auth.lower().startswith("bearer ") else websocket.query_params.get("token")
    return await authenticate(ctx, bearer=bearer, cookie=websocket.cookies.get(SESSION_COOKIE))


async def _snapshot(
    ctx: Context, space_id: str, user: User | None, speaking: list[int]
) -> Snapshot:
    await tickets.check_can_follow(ctx, space_id=space_id, viewer=user)
    seq = await spaces.event_seq(ctx, space_id=space_id)
    space = await spaces.get(ctx, space_id=space_id, viewer=user)
    people = await presence.list_participants(ctx, space_id=space_id)
    return Snapshot(
        space_id=space_id,
        at=ctx.clock.now(),
        seq=seq,
        space=space,
        participants=people,
        speaking=speaking,
    )


async def _pump(websocket: WebSocket, subscription: Subscription, user: User | None) -> None:
    """Stream events until the client leaves, falls behind, is removed, or the space is over.

    Three tasks race: the sender, a reader that notices the client leaving, and a watchdog
    that fires the moment the client's queue overflows, even while a send is stuck on a
    stalled socket.
    """
    sender = asyncio.create_task(_send_events(websocket, subscription, user))
    reader = asyncio.create_task(_drain(websocket))
    watchdog = asyncio.create_task(subscription.wait_overflow())
    tasks = {sender, reader, watchdog}
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if watchdog in done or (sender in done and isinstance(sender.exception(), SlowConsumer)):
        # A stalled socket may never take the close frame; don't wait on it for long.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                _close(websocket, CLOSE_TRY_AGAIN, subscription.cut_reason), timeout=1
            )


async def _send_events(websocket: WebSocket, subscription: Subscription, user: User | None) -> None:
    while True:
        event = await subscription.get()
        to = addressed_to(event)
        if to is not None and (user is None or user.id != to):
            continue  # someone else's own news (their seat taken by their other device)
        await websocket.send_text(event.model_dump_json())
        if isinstance(event, SpaceEnded | SpaceCancelled):
            await websocket.close(CLOSE_NORMAL, "the space is over")
            return
        if isinstance(event, ParticipantLeft) and user is not None and event.user_id == user.id:
            if event.reason == "removed":
                await websocket.close(CLOSE_REMOVED, "you were removed from this space")
                return
            if event.reason == "banned":
                await websocket.close(CLOSE_UNAUTHORIZED, "this account is banned")
                return


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, to notice when it goes away."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
