"""This node's share of the live spaces: the rooms it runs are the leases it holds.

A space's room opens on the node that takes its media lease (``services/media_leases.py``),
as soon as the space goes live, not on a first request, so a recording has no gap while
nobody listens. Every third of a lease this node renews its leases, lets go of rooms whose
lease it lost, and takes the spaces nobody runs: a dead node's spaces come back within about
one lease. A node that cannot renew (the database unreachable) halts its rooms once its leases
may have lapsed, so two nodes never write one space's stream or recording at once.

One process alone is the same with one node: it takes every space.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from salon.domain.errors import NotFound, Unavailable
from salon.events.types import Event, SpaceStarted
from salon.media.engine import MediaEngine
from salon.media.room import Room
from salon.metrics import MEDIA_TAKEOVERS
from salon.services import media_leases
from salon.services.context import Context
from salon.services.media_leases import Lease
from salon.store.db import OUTAGE_ERRORS

log = logging.getLogger(__name__)


class MediaOwnership:
    def __init__(
        self, ctx: Context, engine: MediaEngine, *, node: str, url: str, several: bool = False
    ) -> None:
        self._ctx = ctx
        #: Whether other nodes may take spaces too (Redis): then this one spreads the load.
        self._several = several
        self._engine = engine
        self.node = node
        self.url = url
        self._lease = ctx.settings.media_lease_seconds
        self._renewed_at: float | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        ctx.bus.add_listener(self._on_event)

    async def take(self, space_id: str) -> Room | None:
        """Run the space's media here if nobody does; this node's room, or None."""
        async with self._engine.opening(space_id):
            room = self._engine.room(space_id)
            if room is not None and not room.ended:
                return room
            run = await media_leases.claim(
                self._ctx, space_id=space_id, node=self.node, url=self.url
            )
            if run is None:
                return None
            if run.run > 0:
                MEDIA_TAKEOVERS.inc()
            self._renewed_at = asyncio.get_running_loop().time()
            return self._engine.open_room(
                space_id,
                recording=run.recording,
                ticketed=run.ticketed,
                run=run.run,
                started_at=run.started_at,
            )

    async def locate(self, space_id: str) -> Room | Lease:
        """Where the space's media runs: this node's room (an ended one too, for a while),
        or the lease of the node that runs it (to forward to). A live space nobody runs is
        taken here. NotFound when it is not live; Unavailable while another node takes it.
        """
        room = self._engine.room(space_id)
        if room is not None:
            return room
        lease = await media_leases.owner(self._ctx, space_id=space_id)
        if lease is not None and lease.node != self.node:
            return lease
        found = await self.take(space_id) or await media_leases.owner(self._ctx, space_id=space_id)
        if found is None or (isinstance(found, Lease) and found.node == self.node):
            raise Unavailable("this space's media is starting: try again in a moment")
        return found

    async def run(self) -> None:
        """Renew, let go, take over: every third of a lease, until cancelled."""
        while True:
            try:
                await self.tick()
            except OUTAGE_ERRORS as exc:
                log.warning("media leases not renewed (%s)", exc)
                self._halt_if_lapsed()
            except Exception:
                log.exception("media lease upkeep failed; trying again")
            await asyncio.sleep(self._lease / 3)

    async def tick(self) -> None:
        mine = self._running()
        started = asyncio.get_running_loop().time()
        kept = await media_leases.renew(self._ctx, node=self.node, space_ids=mine)
        self._renewed_at = started
        for space_id in set(mine) - kept:  # ended (its event will stop the room), or taken
            lease = await media_leases.owner(self._ctx, space_id=space_id)
            if lease is not None and lease.node != self.node:
                log.warning("space %s's media lease went to another node: halting here", space_id)
                self._engine.halt_room(space_id)
        for space_id in await media_leases.orphaned(self._ctx):
            await self._yield_to_lighter_nodes()
            with contextlib.suppress(NotFound):  # it ended meanwhile
                if await self.take(space_id) is not None:
                    log.info("took over the media of space %s", space_id)

    async def close(self) -> None:
        """Hand the leases back (the caller then ends this node's rooms)."""
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(*OUTAGE_ERRORS):
            await media_leases.release(self._ctx, node=self.node, space_ids=self._running())

    def _running(self) -> list[str]:
        return [space_id for space_id, room in self._engine.rooms.items() if not room.ended]

    def _halt_if_lapsed(self) -> None:
        loop = asyncio.get_running_loop()
        if self._renewed_at is not None and loop.time() - self._renewed_at > self._lease:
            for space_id in self._running():
                log.warning("cannot renew space %s's media lease: halting its room", space_id)
                self._engine.halt_room(space_id)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, SpaceStarted):
            task = asyncio.get_running_loop().create_task(self._take_started(event.space_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _yield_to_lighter_nodes(self) -> None:
        """Spread spaces over the nodes: one that runs more rooms waits a little longer before
        taking a space (20 ms a room, at most a third of a lease), so a lighter node that
        sees it too usually takes it first. A request for the space's media takes it at once
        wherever it lands."""
        if self._several:
            await asyncio.sleep(min(0.02 * len(self._running()), self._lease / 3))

    async def _take_started(self, space_id: str) -> None:
        try:
            await self._yield_to_lighter_nodes()
            await self.take(space_id)
        except NotFound:
            pass  # over already
        except Exception:
            log.exception("could not start the media of space %s; the next look will", space_id)
