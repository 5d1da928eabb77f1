"""Presence across nodes: each node's connection counts in Redis, under its heartbeat.

Every event-stream connection is counted twice in Redis: in the instance's total per person
and space (whose first opening and last closing start or cancel grace periods, whichever
node they happen on), and in the node's own hash. Each node renews a heartbeat key that
expires after three beats. A node that stops beating (``kill -9``, a lost machine, a
partition) is reaped by the first live node to notice: its counts are taken off the totals,
and everyone left with no connection anywhere starts their grace period, as if their
connection had closed. A restarted process is a new node, so this also reconciles one box's
restart.

The counting and the reaping are Lua scripts, each one atomic in Redis: two nodes reaping the
same dead node cannot both take its counts off.
"""

from __future__ import annotations

import asyncio
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from salon.metrics import NODES_REAPED
from salon.services import presence
from salon.services.context import Context

log = logging.getLogger(__name__)

# KEYS: totals, this node's hash. ARGV: field. Returns the person's total after it.
_OPEN = """
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
"""
_CLOSE = """
if redis.call('HINCRBY', KEYS[2], ARGV[1], -1) <= 0 then redis.call('HDEL', KEYS[2], ARGV[1]) end
local total = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if total <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return total
"""
# KEYS: totals, the node's hash, its heartbeat, the node set. ARGV: its id.
# Returns {0} if it is alive (or another node reaped it first), else {1, fields...}: the
# fields (space:user) it leaves with no connection on any node.
_REAP = """
if redis.call('EXISTS', KEYS[3]) == 1 then return {0} end
if redis.call('SREM', KEYS[4], ARGV[1]) == 0 then return {0} end
local counts = redis.call('HGETALL', KEYS[2])
local gone = {1}
for i = 1, #counts, 2 do
  local total = redis.call('HINCRBY', KEYS[1], counts[i], -tonumber(counts[i + 1]))
  if total <= 0 then
    redis.call('HDEL', KEYS[1], counts[i])
    table.insert(gone, counts[i])
  end
end
redis.call('DEL', KEYS[2])
return gone
"""


class NodeConnections:
    """``services.connections.Connections`` for a node among several (Redis)."""

    def __init__(
        self, ctx: Context, redis: Redis, *, prefix: str, node: str, heartbeat: float
    ) -> None:
        self._ctx = ctx
        self._redis = redis
        self._prefix = prefix
        self.node = node
        self._heartbeat = heartbeat
        self._totals = f"{prefix}presence"
        self._nodes = f"{prefix}nodes"
        self._open = redis.register_script(_OPEN)
        self._close = redis.register_script(_CLOSE)
        self._reap = redis.register_script(_REAP)

    def _hash(self, node: str) -> str:
        return f"{self._prefix}node:{node}:presence"

    def _alive(self, node: str) -> str:
        return f"{self._prefix}node:{node}:alive"

    async def opened(self, *, space_id: str, user_id: int) -> None:
        field = f"{space_id}:{user_id}"
        try:
            total = await self._open(keys=[self._totals, self._hash(self.node)], args=[field])
        except (RedisError, OSError) as exc:
            log.warning("presence not counted in Redis (%s)", exc)
            return
        if int(total) == 1:
            await presence.connected(self._ctx, user_id=user_id, space_id=space_id)

    async def closed(self, *, space_id: str, user_id: int) -> None:
        field = f"{space_id}:{user_id}"
        try:
            total = await self._close(keys=[self._totals, self._hash(self.node)], args=[field])
        except (RedisError, OSError) as exc:
            log.warning("presence not counted in Redis (%s)", exc)
            return
        if int(total) <= 0:
            await presence.disconnected(self._ctx, user_id=user_id, space_id=space_id)

    async def is_connected(self, space_id: str, user_id: int) -> bool:
        total = await self._redis.hget(self._totals, f"{space_id}:{user_id}")
        return total is not None and int(total) > 0

    async def beat(self) -> None:
        """Renew this node's heartbeat (it lapses after three beats)."""
        ttl_ms = int(self._heartbeat * 3000)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._alive(self.node), "1", px=ttl_ms)
            pipe.sadd(self._nodes, self.node)
            await pipe.execute()

    async def reap(self) -> int:
        """Take the connections of nodes whose heartbeat lapsed off the totals; start the
        grace period of everyone that leaves with none. Returns how many nodes were reaped."""
        reaped = 0
        for raw in await self._redis.smembers(self._nodes):
            node = raw.decode() if isinstance(raw, bytes) else str(raw)
            if node == self.node:
                continue
            found = await self._reap(
                keys=[self._totals, self._hash(node), self._alive(node), self._nodes], args=[node]
            )
            if int(found[0]) == 0:
                continue
            reaped += 1
            NODES_REAPED.inc()
            gone = found[1:]
            log.warning("node %s stopped beating: %d people lost their connection", node, len(gone))
            for field in gone:
                space_id, _, user_id = field.decode().rpartition(":")
                await presence.disconnected(self._ctx, user_id=int(user_id), space_id=space_id)
        return reaped

    async def run(self) -> None:
        """Beat and reap every heartbeat, until cancelled; Redis outages are logged, waited out."""
        while True:
            try:
                await self.beat()
                await self.reap()
            except (RedisError, OSError) as exc:
                log.warning("node heartbeat failed (%s); trying again", exc)
            except Exception:
                log.exception("reaping lapsed nodes failed; trying again")
            await asyncio.sleep(self._heartbeat)

    async def close(self) -> None:
        """Leave cleanly: this node's connections are closed by then; forget its keys."""
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(self._alive(self.node), self._hash(self.node))
                pipe.srem(self._nodes, self.node)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("could not remove this node from Redis (%s)", exc)
