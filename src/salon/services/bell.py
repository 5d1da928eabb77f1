"""Wakes the people whose bell changed: one waiting long-poll per browser, on this node.

A notification committed on this node rings its people at once (``Context.transaction``);
one committed on another node is found by the waiter's own re-check, every
``RECHECK_SECONDS`` (``services/notifications.py`` ``wait``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable


class Bell:
    def __init__(self) -> None:
        self._events: dict[int, asyncio.Event] = {}

    def ring(self, user_ids: Iterable[int]) -> None:
        for user_id in user_ids:
            event = self._events.pop(user_id, None)
            if event is not None:
                event.set()

    async def wait(self, user_id: int, timeout: float) -> bool:  # noqa: ASYNC109
        """True when ``user_id`` was rung within ``timeout`` seconds."""
        event = self._events.get(user_id)
        if event is None:
            event = self._events[user_id] = asyncio.Event()
        try:
            async with asyncio.timeout(timeout):
                await event.wait()
        except TimeoutError:
            return False  # the event stays for the person's next wait (one entry each)
        return True
