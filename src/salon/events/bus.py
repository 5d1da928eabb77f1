"""The event bus seam: an in-memory bus now, Redis pub/sub when Salon runs on many nodes."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Protocol

from salon.events.types import Event


class SlowConsumer(Exception):
    """The subscriber was cut off: it fell behind by a whole queue, or the bus lost events."""


#: Why a subscription was cut off when it fell behind.
TOO_SLOW = "too slow: reconnect to catch up"


class Subscription:
    """One client's view of a space's events: a bounded queue that never blocks publishers.

    When the queue is full the subscription is marked overflowed; the reader then gets
    SlowConsumer and should disconnect, so one slow client never slows anyone else. A bus
    that may have lost events cuts its subscriptions the same way (``cut``), with its reason.
    """

    def __init__(self, space_id: str, *, max_queue: int) -> None:
        self.space_id = space_id
        self.max_queue = max_queue
        self.overflowed = False
        self.cut_reason = TOO_SLOW
        self.closed = False
        self._queue: deque[Event] = deque()
        self._ready = asyncio.Event()
        self._overflow = asyncio.Event()

    def offer(self, event: Event) -> None:
        if self.closed or self.overflowed:
            return
        if len(self._queue) >= self.max_queue:
            self.overflowed = True
            self._queue.clear()
            self._overflow.set()
        else:
            self._queue.append(event)
        self._ready.set()

    def cut(self, reason: str) -> None:
        """Cut the subscriber off (its client should reconnect and re-read the snapshot)."""
        if self.closed or self.overflowed:
            return
        self.cut_reason = reason
        self.overflowed = True
        self._queue.clear()
        self._overflow.set()
        self._ready.set()

    async def get(self) -> Event:
        while not self._queue:
            if self.overflowed:
                raise SlowConsumer(self.cut_reason)
            if self.closed:
                raise asyncio.CancelledError
            self._ready.clear()
            await self._ready.wait()
        return self._queue.popleft()

    async def wait_overflow(self) -> None:
        """Return once the subscriber has fallen a whole queue behind."""
        await self._overflow.wait()

    def close(self) -> None:
        self.closed = True
        self._ready.set()


Listener = Callable[[Event], None]


class EventBus(Protocol):
    async def publish(self, event: Event) -> None:
        """Deliver ``event`` to every subscriber of its space (on every node)."""
        ...

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener`` with every event of every space (for in-process engines).

        Listeners must not block; their errors are logged, never propagated.
        """
        ...

    def subscribe(self, space_id: str) -> Subscription: ...

    def unsubscribe(self, subscription: Subscription) -> None: ...

    async def close(self) -> None: ...
