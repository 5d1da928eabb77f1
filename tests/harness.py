"""Test harness: a real Salon server on loopback, real databases, real HTTP/WebSocket clients."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import uvicorn
import websockets
from websockets.asyncio.client import ClientConnection

from salon.app import create_app
from salon.config import Settings
from salon.serving import uvicorn_options

POSTGRES_ADMIN_DSN = os.environ.get(
    "SALON_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKENDS = ("sqlite", "postgres")

#: The password every test account gets.
PASSWORD = "s3cret-pass"

#: Cheap password hashing for tests (the production defaults are deliberately slow).
FAST_HASHING: dict[str, Any] = {"argon2_time_cost": 1, "argon2_memory_kib": 1024}


class OffsetClock:
    """Real time plus an offset that tests can push forward (e.g. past a grace period)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@asynccontextmanager
async def throwaway_database(backend: str, tmp_dir: str) -> AsyncIterator[str]:
    """A fresh, empty database for one test; PostgreSQL ones are dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_dir}/salon.db"
        return
    name = f"salon_test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


class Server:
    """A Salon app served by uvicorn on a free loopback port, in its own thread and loop."""

    def __init__(
        self,
        settings: Settings,
        clock: OffsetClock,
        *,
        send_buffer: int | None = None,
        ws_pings: bool = True,
    ) -> None:
        """``send_buffer`` pins the kernel send buffer of every connection (accepted sockets
        inherit it from the listener), so a test can make a stalled client back up quickly;
        without ``ws_pings`` the server sends no WebSocket pings, so a client that never
        reads is not closed for a missed pong (after 40 s) before the test's point is made."""
        self.settings = settings
        self.clock = clock
        self.app = create_app(settings, clock=clock)
        # As ``salon serve`` runs it (the hot path in uvicorn's protocol included), quieter.
        options = uvicorn_options(settings)
        if not ws_pings:
            options["ws_ping_interval"] = None
        # Longer than any test's pause between two requests on one client, however busy the
        # machine: a connection closed for idling just as a client reuses it fails the
        # request ("server disconnected") through no fault of the server's.
        options["timeout_keep_alive"] = 30
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on", **options)
        self._server = uvicorn.Server(config)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if send_buffer is not None:
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    async def start(self) -> None:
        self._thread.start()
        for _ in range(600):
            if self._server.started:
                break
            if not self._thread.is_alive():
                raise RuntimeError("the server failed to start")
            await asyncio.sleep(0.01)
        else:
            raise RuntimeError("the server did not start in time")

    async def __aenter__(self) -> Server:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        self._server.should_exit = True
        await asyncio.to_thread(self._thread.join, 10)
        self._socket.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def person(self, handle: str | None = None, *, display_name: str = "") -> Person:
        """Register a new account and return a signed-in client for it."""
        handle = handle or f"u{secrets.token_hex(5)}"
        client = httpx.AsyncClient(base_url=self.url, timeout=30)
        response = await client.post(
            "/api/accounts",
            json={
                "handle": handle,
                "display_name": display_name or handle,
                "password": PASSWORD,
            },
        )
        assert response.status_code == 201, response.text
        return Person(self, client, response.json())


@asynccontextmanager
async def client(server: Server, **headers: str) -> AsyncIterator[httpx.AsyncClient]:
    """A fresh client with an empty cookie jar: anonymous until it signs in."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=headers) as http:
        yield http


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert ``response`` is an RFC 9457 problem with ``status``; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json", response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


class Person:
    """A signed-in account with its own cookie jar."""

    def __init__(self, server: Server, client: httpx.AsyncClient, me: dict[str, Any]) -> None:
        self.server = server
        self.http = client
        self.me = me
        self.id: int = me["id"]
        self.handle: str = me["handle"]

    async def call(
        self, method: str, path: str, status: int | None = None, **kwargs: Any
    ) -> httpx.Response:
        response = await self.http.request(method, path, **kwargs)
        if status is not None:
            assert response.status_code == status, (
                f"{method} {path}: expected {status}, got {response.status_code}: {response.text}"
            )
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json", response.text
            assert response.json()["detail"], response.text
        return response

    async def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call and expect success; return the JSON body (or None for 204)."""
        response = await self.call(method, path, **kwargs)
        assert response.status_code < 300, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return None if response.status_code == 204 else response.json()

    async def create_space(self, title: str = "A space", **body: Any) -> dict[str, Any]:
        space: dict[str, Any] = await self.ok("POST", "/api/spaces", json={"title": title, **body})
        return space

    async def join(self, space_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.ok("POST", f"/api/spaces/{space_id}/join")
        return result

    @property
    def cookie_header(self) -> str:
        return f"salon_session={self.http.cookies['salon_session']}"

    @asynccontextmanager
    async def events(self, space_id: str) -> AsyncIterator[EventStream]:
        async with websockets.connect(
            f"{self.server.ws_url}/api/spaces/{space_id}/events",
            additional_headers={"Cookie": self.cookie_header},
        ) as ws:
            stream = EventStream(ws)
            snapshot = await stream.next("snapshot")
            stream.snapshot = snapshot
            yield stream

    async def close(self) -> None:
        await self.http.aclose()


class EventStream:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []
        self.snapshot: dict[str, Any] = {}

    async def next(self, type_: str | None = None, *, within: float = 10) -> dict[str, Any]:
        """The next event (of ``type_``, skipping others), failing after ``within`` seconds."""
        async with asyncio.timeout(within):
            while True:
                event: dict[str, Any] = json.loads(await self.ws.recv())
                self.seen.append(event)
                if type_ is None or event["type"] == type_:
                    return event

    async def until(self, predicate: Any, *, within: float = 10) -> dict[str, Any]:
        async with asyncio.timeout(within):
            while True:
                event: dict[str, Any] = json.loads(await self.ws.recv())
                self.seen.append(event)
                if predicate(event):
                    return event


async def metric(server: Server, name: str) -> float:
    """A counter or gauge from the server's /metrics (0 when not yet reported)."""
    async with httpx.AsyncClient(base_url=server.url) as client:
        text = (await client.get("/metrics")).text
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    return 0.0


async def wait_for_metric(server: Server, name: str, done: Callable[[float], bool]) -> None:
    """Poll /metrics until ``done(value)`` holds (the server exposes no push for these)."""
    async with asyncio.timeout(30):
        while not done(await metric(server, name)):  # noqa: ASYNC110 - polling over HTTP
            await asyncio.sleep(0.02)


async def wait_for_sweeps(server: Server, count: int = 2) -> None:
    """Wait until the server's grace-period sweeper has run ``count`` more times."""
    target = await metric(server, "salon_sweeps_total") + count
    await wait_for_metric(server, "salon_sweeps_total", lambda value: value >= target)
