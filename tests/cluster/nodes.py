"""Several Salon nodes as child processes on loopback, sharing one PostgreSQL database and
one Redis (a key prefix of their own), each with its own var directory."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import websockets
from redis.asyncio import Redis

from tests.edge.stack import Account, Origin, register
from tests.harness import POSTGRES_ADMIN_DSN, EventStream

REDIS_URL = "redis://127.0.0.1:6379/0"
SECRET_KEY = "cluster-tests-secret-key-" + "y" * 24
HEARTBEAT_SECONDS = 0.5
PRESENCE_GRACE_SECONDS = 2.0
HOST_GRACE_SECONDS = 4.0


class Node(Origin):
    """``salon serve`` as one of several nodes (``tests.edge.stack.Origin`` with a cluster's
    settings): killable with SIGKILL and started again on the same port."""

    def __init__(self, directory: Path, *, database_url: str, **settings: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        super().__init__(directory)
        self.env.update(
            {
                "SALON_DATABASE_URL": database_url,
                "SALON_SECRET_KEY": SECRET_KEY,
                "SALON_PRESENCE_GRACE_SECONDS": str(PRESENCE_GRACE_SECONDS),
                "SALON_HOST_GRACE_SECONDS": str(HOST_GRACE_SECONDS),
                "SALON_SWEEP_INTERVAL_SECONDS": "0.2",
                "SALON_NODE_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
                **settings,
            }
        )

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None


async def redis_keys(prefix: str) -> list[bytes]:
    client = Redis.from_url(REDIS_URL)
    try:
        return [key async for key in client.scan_iter(match=f"{prefix}*")]
    finally:
        await client.aclose()


async def drop_keys(prefix: str) -> None:
    client = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def new_prefix() -> str:
    return f"salon-test-{secrets.token_hex(4)}:"


async def person(node: Node) -> Account:
    """A new account, signed in on ``node`` (its session cookie works on every node)."""
    return await register(node.url)


async def on(node: Node, account: Account) -> Account:
    """The same person, their requests sent to another node."""
    import httpx

    http = httpx.AsyncClient(base_url=node.url, timeout=30, cookies=account.http.cookies)
    return Account(http, account.me)


class Stream(EventStream):
    """A space's event stream on one node, as a client sees it."""

    async def closed(self, *, within: float = 15) -> int | None:
        """Read until the server closes the stream; its close code."""
        async with asyncio.timeout(within):
            with contextlib.suppress(websockets.ConnectionClosed):
                while True:
                    self.seen.append(json.loads(await self.ws.recv()))
        return self.ws.close_code


@asynccontextmanager
async def events(
    node: Node, space_id: str, account: Account | None = None, *, patience: float = 0
) -> AsyncIterator[Stream]:
    """A stream, from its snapshot on; with ``patience``, refusals with 1013 ("try again")
    are tried again for that long, as a client does."""
    headers = {}
    if account is not None:
        headers["Cookie"] = f"salon_session={account.http.cookies['salon_session']}"
    url = f"{node.ws_url}/api/spaces/{space_id}/events"
    async with asyncio.timeout(patience + 15):
        while True:
            ws = await websockets.connect(url, additional_headers=headers)
            stream = Stream(ws)
            try:
                stream.snapshot = await stream.until(lambda event: event["type"] == "snapshot")
            except websockets.ConnectionClosed:
                if not patience or ws.close_code != 1013:
                    raise
                await asyncio.sleep(0.2)
                continue
            break
    try:
        yield stream
    finally:
        await ws.close()


async def database(database_url: str) -> asyncpg.Connection:
    """A plain connection to the nodes' database (tests read what the nodes wrote)."""
    name = database_url.rsplit("/", 1)[1]
    return await asyncpg.connect(POSTGRES_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}")


async def owner_url(database_url: str, space_id: str, *, other_than: str | None = None) -> str:
    """The URL of the node that holds the space's media lease, once one (not ``other_than``)
    does."""
    db = await database(database_url)
    try:
        async with asyncio.timeout(30):
            while True:
                url = await db.fetchval(
                    "SELECT media_url FROM spaces WHERE id = $1 AND media_lease_until > now()",
                    space_id,
                )
                if url is not None and url != other_than:
                    return str(url)
                await asyncio.sleep(0.05)
    finally:
        await db.close()
