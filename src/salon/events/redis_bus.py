"""The event bus between nodes: Redis pub/sub (redis-py's asyncio client).

Every node publishes each event to one channel of the instance and hands it to its own
subscribers at once; every node reads the channel and hands on what the *other* nodes
published. So a node's own engines (mute enforcement in its media rooms) never wait on
Redis, and each event reaches each node once.

Pub/sub rather than Redis Streams: a client that misses events (a node that lost Redis for a
moment, a slow socket) re-reads the space's snapshot from the database anyway, which is the
truth, so replaying history from Redis would buy nothing but memory to trim. What a client
must notice is the loss, and it does: events carry per-space sequence numbers (``seq``), and
when this node loses Redis it cuts every event stream it serves (close 1013, "try again"),
so their clients reconnect and read a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from salon.events.bus import Listener, Subscription
from salon.events.memory import MemoryBus
from salon.events.types import Event, from_json
from salon.metrics import BUS_OUTAGES

log = logging.getLogger(__name__)

#: Waits between attempts to reach Redis again after losing it.
RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0)
LOST = "the event bus lost Redis: reconnect to catch up"


class RedisBus:
    def __init__(self, redis: Redis, *, prefix: str, node: str, max_queue: int = 256) -> None:
        self._redis = redis
        self._channel = f"{prefix}events"
        self._node = node
        self._mark = f"{node} ".encode()
        self._local = MemoryBus(max_queue=max_queue)
        self._reader: asyncio.Task[None] | None = None
        #: Set while the channel is subscribed; event streams are refused while it is not.
        self.connected = asyncio.Event()

    async def start(self) -> None:
        """Subscribe, and keep subscribed; returns once subscribed the first time (or failed)."""
        self._reader = asyncio.create_task(self._read_forever(), name="salon-redis-bus")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await self.connected.wait()

    def add_listener(self, listener: Listener) -> None:
        self._local.add_listener(listener)

    async def publish(self, event: Event) -> None:
        """Deliver here at once, then to the other nodes. Never raises: a lost event is
        noticed by the clients (their streams are cut, they re-read the snapshot)."""
        self._local.deliver(event)
        try:
            await self._redis.publish(self._channel, self._mark + event.model_dump_json().encode())
        except (RedisError, OSError) as exc:
            # The other nodes' clients miss it: every client resyncs (the reader, if Redis
            # is really gone, notices too and refuses streams until it is back).
            log.warning("could not publish %s to Redis (%s); cutting event streams", event, exc)
            BUS_OUTAGES.inc()
            self._local.cut_all(LOST)

    def subscribe(self, space_id: str) -> Subscription:
        subscription = self._local.subscribe(space_id)
        if not self.connected.is_set():
            subscription.cut(LOST)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._local.unsubscribe(subscription)

    def subscriber_count(self, space_id: str) -> int:
        return self._local.subscriber_count(space_id)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._local.close()

    async def _read_forever(self) -> None:
        failures = 0
        while True:
            try:
                await self._read()
            except (RedisError, OSError) as exc:
                if self.connected.is_set() or failures == 0:
                    log.warning("lost Redis (%s); cutting event streams, reconnecting", exc)
                self._lose()
            delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
            failures = 0 if self.connected.is_set() else failures + 1
            await asyncio.sleep(delay)

    async def _read(self) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self._channel)
            self.connected.set()
            log.info("event bus subscribed to %s", self._channel)
            while True:
                # A bounded wait (None after a second of quiet), so the client's health
                # checks run and a dead connection is noticed, not waited on for ever.
                message = await pubsub.get_message(timeout=1.0)
                if message is None or message["type"] != "message":
                    continue
                self._hand_on(message["data"])
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    def _hand_on(self, data: bytes) -> None:
        if data.startswith(self._mark):
            return  # this node's own: delivered when published
        _, _, body = data.partition(b" ")
        try:
            event = from_json(body)
        except ValueError:
            log.warning("dropped a malformed event from Redis: %.200r", data)
            return
        self._local.deliver(event)

    def _lose(self) -> None:
        if self.connected.is_set():
            BUS_OUTAGES.inc()
        self.connected.clear()
        self._local.cut_all(LOST)
