"""Live connections per person per space, feeding the drop/grace rules.

``Connections`` is one process's count, in memory (the embedded default); several nodes count
in Redis (``services/node_presence.py``). Both answer the same four calls.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Protocol

from salon.services import presence
from salon.services.context import Context

log = logging.getLogger(__name__)


class ConnectionCounts(Protocol):
    async def opened(self, *, space_id: str, user_id: int) -> None: ...

    async def closed(self, *, space_id: str, user_id: int) -> None: ...

    async def is_connected(self, space_id: str, user_id: int) -> bool:
        """Whether the person holds a live connection to the space (on any node)."""
        ...

    async def run(self) -> None:
        """Background upkeep until cancelled (heartbeats); nothing for one process."""
        ...

    async def close(self) -> None: ...


class Connections:
    """Counts each person's open connections to each space (event streams, later media).

    Only the first opening and the last closing matter: they start or cancel the grace period
    after which a dropped host's space ends, or a dropped listener leaves.
    """

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._open: Counter[tuple[str, int]] = Counter()

    async def opened(self, *, space_id: str, user_id: int) -> None:
        key = (space_id, user_id)
        self._open[key] += 1
        if self._open[key] == 1:
            await presence.connected(self._ctx, user_id=user_id, space_id=space_id)

    async def closed(self, *, space_id: str, user_id: int) -> None:
        key = (space_id, user_id)
        self._open[key] -= 1
        if self._open[key] <= 0:
            del self._open[key]
            await presence.disconnected(self._ctx, user_id=user_id, space_id=space_id)

    async def is_connected(self, space_id: str, user_id: int) -> bool:
        return (space_id, user_id) in self._open

    async def run(self) -> None:
        await asyncio.Event().wait()  # nothing to keep up: one process holds every count

    async def close(self) -> None:
        self._open.clear()
