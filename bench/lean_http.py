"""A lean keep-alive HTTP/1.1 GET client for the benchmark's players.

``tests.edge.players.RawHttpClient`` reads each answer through asyncio's streams (a
``StreamReader``, ``readuntil``/``readexactly``, a timeout context and a header dict per
request): at thousands of players those cost the player processes more CPU than the edge
they measure, on the same two cores. This one is an ``asyncio.Protocol`` that parses an
answer where it lands (``data_received``) and hands it to one future: the same ``get`` and
``aclose`` as ``RawHttpClient``, for answers with a Content-Length (the edge and the origin's
HLS answers all have one; anything else is an error, counted by the player).
"""

from __future__ import annotations

import asyncio
from typing import cast
from urllib.parse import urlsplit

from tests.edge.players import RawResponse

_HEAD_END = b"\r\n\r\n"
_LENGTH = b"\r\ncontent-length:"
_CLOSE = b"\r\nconnection: close"


class _Connection(asyncio.Protocol):
    """One TCP connection: at most one request in flight, its answer to ``waiter``."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[RawResponse] | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but write like one.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        end = self.buffer.find(_HEAD_END)
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        at = head.find(_LENGTH)
        if at < 0:
            waiter.set_exception(ValueError("an answer without Content-Length"))
            return
        stop = head.find(b"\r\n", at + 2)
        length = int(head[at + len(_LENGTH) : stop if stop >= 0 else len(head)])
        total = end + 4 + length
        if len(self.buffer) < total:
            return
        body = bytes(self.buffer[end + 4 : total])
        del self.buffer[:total]
        headers = {"connection": "close"} if _CLOSE in head else {}
        waiter.set_result(RawResponse(int(head[9:12]), headers, body))

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(ConnectionResetError("the server closed the connection"))


class LeanHttpClient:
    """One keep-alive HTTP/1.1 connection, GET only, answers with a Content-Length."""

    def __init__(self, base_url: str, *, timeout: float = 15.0) -> None:
        parsed = urlsplit(base_url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 80
        self.timeout = timeout
        self._host_line = f"\r\nHost: {self.host}:{self.port}\r\n\r\n".encode()
        self._connection: _Connection | None = None

    async def get(self, target: str) -> RawResponse:
        request = b"GET " + target.encode() + b" HTTP/1.1" + self._host_line
        loop = asyncio.get_running_loop()
        for attempt in range(2):
            reused = self._connection is not None
            try:
                if self._connection is None or self._connection.lost:
                    # uvloop may call connection_made after this returns: keep its transport.
                    transport, self._connection = await loop.create_connection(
                        _Connection, self.host, self.port
                    )
                    self._connection.transport = transport
                response = await self._exchange(loop, self._connection, request)
            except TimeoutError:
                await self.aclose()
                raise
            except OSError:  # refused, reset, or closed by the server while idle
                await self.aclose()
                if attempt or not reused:  # a fresh connection failed: give up
                    raise
                continue
            except BaseException:
                await self.aclose()
                raise
            if response.headers.get("connection") == "close":
                await self.aclose()
            return response
        raise AssertionError("unreachable")

    async def _exchange(
        self, loop: asyncio.AbstractEventLoop, connection: _Connection, request: bytes
    ) -> RawResponse:
        waiter: asyncio.Future[RawResponse] = loop.create_future()
        expired: list[bool] = []

        def expire() -> None:
            expired.append(True)
            waiter.cancel()

        if connection.lost:
            raise ConnectionResetError("the server closed the connection")
        connection.waiter = waiter
        assert connection.transport is not None
        connection.transport.write(request)
        timer = loop.call_later(self.timeout, expire)
        try:
            return await waiter
        except asyncio.CancelledError:
            if expired:
                raise TimeoutError(f"no answer in {self.timeout:g} s") from None
            raise
        finally:
            timer.cancel()
            connection.waiter = None

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and connection.transport is not None:
            connection.transport.close()
