"""Cheap LL-HLS players for the edge tests: a minimal keep-alive HTTP/1.1 client and a player
that follows a live playlist as a low-latency player does.

Adapted from ``bench/common.py`` (``RawHttpClient``, ``HlsFollower``): hundreds of players run
in the test process, so each costs little CPU (no HTTP library, regular expressions for the
playlist). Each player keeps two connections, as a browser does: one for the blocking
playlist reload, one for the parts. By default it asks for the preload-hinted part beside the
reload, before it exists, as Apple's players do: both are held and answered when the part is
published. With ``preload_hint=False`` it does what hls.js (the web app's player, 1.7, which
reads EXT-X-PRELOAD-HINT but never requests it) does: it asks only for parts the playlist
lists, each beside the next blocking reload, so only the reload is held.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import zlib
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

#: A ticketed space's credential segment, as the edge's cache replaces it in its keys.
CREDENTIAL_SEGMENT = re.compile(r"/\d{1,12}\.[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]{22}/")
_PART_URI = re.compile(r'#EXT-X-PART:.*URI="([^"]+)"')
_HINT = re.compile(r'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="(part(\d+)\.(\d+)\.m4s)"')
_MAP = re.compile(r'#EXT-X-MAP:URI="([^"]+)"')
_PART_NAME = re.compile(r"^part(\d+)\.(\d+)\.m4s$")


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class HttpStatus(Exception):
    def __init__(self, status: int, path: str) -> None:
        super().__init__(f"HTTP {status} for {path}")
        self.status = status


class HttpClient(Protocol):
    """What a player asks its connections for."""

    async def get(self, target: str) -> RawResponse: ...

    async def aclose(self) -> None: ...


class RawHttpClient:
    """One keep-alive HTTP/1.1 connection, GET only, Content-Length or chunked bodies."""

    def __init__(self, base_url: str, *, timeout: float = 15.0) -> None:
        parsed = urlsplit(base_url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 80
        self.timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def get(self, target: str) -> RawResponse:
        request = f"GET {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode()
        async with asyncio.timeout(self.timeout):
            for attempt in range(2):
                reused = self._writer is not None
                try:
                    return await self._exchange(request)
                except (ConnectionError, asyncio.IncompleteReadError):
                    await self.aclose()
                    if attempt or not reused:  # a fresh connection failed: give up
                        raise
                except BaseException:
                    await self.aclose()
                    raise
        raise AssertionError("unreachable")

    async def _exchange(self, request: bytes) -> RawResponse:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        reader = self._reader
        assert reader is not None
        self._writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
            await reader.readuntil(b"\r\n")
            body = b"".join(chunks)
        else:
            raise ValueError("a response with neither Content-Length nor chunked encoding")
        if headers.get("connection", "").lower() == "close":
            await self.aclose()
        return RawResponse(status, headers, body)

    async def aclose(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


def cache_key(target: str) -> str:
    """What the edge's cache keys a request by: the path with any credential segment replaced
    by a marker, plus only _HLS_msn/_HLS_part (the players send no other argument)."""
    return CREDENTIAL_SEGMENT.sub("/<credential>/", target)


@dataclass
class Player:
    """Follows one live playlist through ``base_url``: a plain playlist fetch, the init, then
    for each part the blocking reload and the preload-hinted part at once (or, without
    ``preload_hint``, the blocking reload and the parts the last playlist listed). On an error
    it counts it, waits a quarter second and starts again from a plain playlist fetch."""

    base_url: str
    #: The playlist's path (with a ticketed space's credential segment, if any).
    playlist: str
    #: Called with (name, bytes) for each part received.
    on_part: Callable[[str, bytes], None] | None = None
    #: Keep every playlist text (for parsing with the m3u8 package); else the last only.
    keep_playlists: bool = False
    #: Ask for the preload-hinted part before it exists (Apple's players); False: only listed
    #: parts, as hls.js does.
    preload_hint: bool = True
    #: Makes each of its two connections from the base URL (a benchmark's leaner one).
    client: Callable[[str], HttpClient] = RawHttpClient
    #: Stops at its next step once set, even before ``until``.
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    parts: dict[str, int] = field(default_factory=dict)  # name -> CRC-32 of its bytes
    order: list[str] = field(default_factory=list)  # part names in the order received
    keys: set[str] = field(default_factory=set)
    requests: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    playlists: list[str] = field(default_factory=list)
    init: bytes = b""

    def __post_init__(self) -> None:
        self._directory = self.playlist.rsplit("/", 1)[0] + "/"
        self._a = self.client(self.base_url)
        self._b = self.client(self.base_url)

    async def _get(self, client: HttpClient, target: str) -> RawResponse:
        self.requests += 1
        self.keys.add(cache_key(target))
        response = await client.get(target)
        if response.status != 200:
            raise HttpStatus(response.status, target)
        return response

    async def _playlist(self, target: str) -> str:
        text = (await self._get(self._a, target)).text
        if not text.startswith("#EXTM3U"):
            raise ValueError("not an HLS playlist")
        if self.keep_playlists:
            self.playlists.append(text)
        else:
            self.playlists[:] = [text]
        return text

    def _received(self, name: str, data: bytes) -> None:
        if name in self.parts:
            return
        self.parts[name] = zlib.crc32(data)
        self.order.append(name)
        if self.on_part is not None:
            self.on_part(name, data)

    async def run(self, until: float) -> None:
        try:
            while time.monotonic() < until and not self.stop.is_set():
                try:
                    await self._follow(until)
                    return
                except HttpStatus as exc:
                    self.errors[f"http {exc.status}"] += 1
                except TimeoutError:
                    self.errors["timeout"] += 1
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    self.errors[type(exc).__name__] += 1
                await asyncio.sleep(0.25)
        finally:
            await self._a.aclose()
            await self._b.aclose()

    async def _follow(self, until: float) -> None:
        text = await self._playlist(self.playlist)
        if not self.init:
            found = _MAP.search(text)
            if found is None:
                raise ValueError("a playlist without EXT-X-MAP")
            self.init = (await self._get(self._a, self._directory + found[1])).body
        while time.monotonic() < until and not self.stop.is_set():
            if not self.preload_hint:
                following = await self._listed_parts_and_reload(text)
                if following is None:
                    return
                text = following
                continue
            # Any listed part not yet received (after an error, or a reload that came late).
            if self.order:
                for uri in _PART_URI.findall(text):
                    if uri not in self.parts and _after(uri, self.order[-1]):
                        self._received(uri, (await self._get(self._a, self._directory + uri)).body)
            hint = _HINT.search(text)
            if hint is None:
                if "#EXT-X-ENDLIST" in text:
                    return
                raise ValueError("a live playlist without a preload hint")
            name, msn, index = hint[1], hint[2], hint[3]
            reload = f"{self.playlist}?_HLS_msn={msn}&_HLS_part={index}"
            part, text = await _both(
                self._get(self._b, self._directory + name), self._playlist(reload)
            )
            self._received(name, part.body)

    async def _listed_parts_and_reload(self, text: str) -> str | None:
        """hls.js's step: the parts ``text`` lists and this player lacks (at the start, the
        newest one only), one after another, beside the blocking reload for the next part;
        the reload's playlist, or None once the stream has ended."""
        listed = _PART_URI.findall(text)
        if self.order:
            missing = [u for u in listed if u not in self.parts and _after(u, self.order[-1])]
        else:
            missing = listed[-1:]

        async def parts() -> None:
            for uri in missing:
                self._received(uri, (await self._get(self._b, self._directory + uri)).body)

        hint = _HINT.search(text)
        if hint is None:
            if "#EXT-X-ENDLIST" in text:
                await parts()
                return None
            raise ValueError("a live playlist without a preload hint")
        reload = f"{self.playlist}?_HLS_msn={hint[2]}&_HLS_part={hint[3]}"
        _, text = await _both(parts(), self._playlist(reload))
        return text

    async def aclose(self) -> None:
        await self._a.aclose()
        await self._b.aclose()


A = TypeVar("A")
B = TypeVar("B")


async def _both(first: Coroutine[Any, Any, A], second: Coroutine[Any, Any, B]) -> tuple[A, B]:
    """Both at once; when one fails the other is cancelled (its connection closed), so no
    request is left running on a connection the player goes on to use."""
    one, two = asyncio.ensure_future(first), asyncio.ensure_future(second)
    try:
        return await one, await two
    except BaseException:
        one.cancel()
        two.cancel()
        await asyncio.gather(one, two, return_exceptions=True)
        raise


def part_number(name: str) -> tuple[int, int]:
    match = _PART_NAME.match(name)
    if match is None:
        raise ValueError(f"{name} is not a part")
    return int(match[1]), int(match[2])


def _after(uri: str, last: str) -> bool:
    return part_number(uri) > part_number(last)
