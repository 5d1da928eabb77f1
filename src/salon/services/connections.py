"""Live connections per person per space on this node, feeding the drop/grace rules."""

from __future__ import annotations

import logging
from collections import Counter

from salon.services import presence
from salon.services.context import Context

log = logging.getLogger(__name__)


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
