"""Players counted across nodes: each node's estimates in Redis, summed by every node.

A player's audio requests reach the node that runs its space's media (forwarded there when
they arrive elsewhere), but an edge reports its players to whichever node it reaches, so the
count of one space may sit on several nodes. Every sweep each node writes its own estimates
(one hash field per node, stamped) and reads the others'; a node's field older than the
counting window is ignored, so a dead node's players fade out as they would on one node.
"""

from __future__ import annotations

import time

from redis.asyncio import Redis

from salon.services.audience import AudienceMeter


class NodeAudience:
    def __init__(self, redis: Redis, *, prefix: str, node: str, window_seconds: float) -> None:
        self._redis = redis
        self._key = f"{prefix}players"
        self._node = node
        self._window = window_seconds

    async def exchange(self, meter: AudienceMeter) -> None:
        """Write this node's players of each space it counts, read the other nodes'."""
        now = time.time()
        async with self._redis.pipeline(transaction=False) as pipe:
            for space_id in meter.spaces_here():
                pipe.hset(
                    self._key, f"{space_id}|{self._node}", f"{meter.players_here(space_id)} {now}"
                )
            pipe.hgetall(self._key)
            replies = await pipe.execute()
        counts: dict[str, int] = {}
        stale: list[str] = []
        for raw_field, raw_value in replies[-1].items():
            field = raw_field.decode()
            space_id, _, node = field.partition("|")
            players, _, stamp = raw_value.decode().partition(" ")
            if now - float(stamp) > 3 * self._window:  # a node gone, or a space over
                stale.append(field)
            elif node != self._node and now - float(stamp) <= self._window:
                counts[space_id] = counts.get(space_id, 0) + int(players)
        if stale:
            await self._redis.hdel(self._key, *stale)
        meter.counted_elsewhere(counts)
