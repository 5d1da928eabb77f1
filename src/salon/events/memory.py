"""The in-process event bus: the embedded default."""

from __future__ import annotations

import logging

from salon.events.bus import Listener, Subscription
from salon.events.types import Event
from salon.metrics import EVENTS_PUBLISHED, SLOW_CONSUMERS

log = logging.getLogger(__name__)


class MemoryBus:
    def __init__(self, *, max_queue: int = 256) -> None:
        self.max_queue = max_queue
        self._subscribers: dict[str, set[Subscription]] = {}
        self._listeners: list[Listener] = []

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def publish(self, event: Event) -> None:
        self.deliver(event)

    def deliver(self, event: Event) -> None:
        """Hand ``event`` to local subscribers; never blocks."""
        EVENTS_PUBLISHED.labels(type=getattr(event, "type", "unknown")).inc()
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                log.exception("event listener failed on %s", type(event).__name__)
        for subscription in list(self._subscribers.get(event.space_id, ())):
            was_overflowed = subscription.overflowed
            subscription.offer(event)
            if subscription.overflowed and not was_overflowed:
                SLOW_CONSUMERS.inc()

    def subscribe(self, space_id: str) -> Subscription:
        subscription = Subscription(space_id, max_queue=self.max_queue)
        self._subscribers.setdefault(space_id, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscription.close()
        subscribers = self._subscribers.get(subscription.space_id)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.space_id]

    def cut_all(self, reason: str) -> None:
        """Cut every subscriber off (events may have been lost): their clients resync."""
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription.cut(reason)

    def subscriber_count(self, space_id: str) -> int:
        return len(self._subscribers.get(space_id, ()))

    async def close(self) -> None:
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                self.unsubscribe(subscription)
