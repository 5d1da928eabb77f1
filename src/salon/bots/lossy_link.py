"""An impaired link for WebRTC clients (the benchmarks and the tests): a user-space UDP relay
between a client and Salon, and the WHIP/WHEP proxy that routes a client's media through it.

``LossyRelay`` sits on every path media can take. It rewrites the ICE candidates of both SDPs:
each of the server's candidates in the answer becomes a relay socket the client is given
instead, each of the client's candidates in the offer a relay socket the server is given
instead, and candidates it cannot relay (TCP, IPv6, mDNS names) are removed. A packet from the
client to a server-side socket leaves through the client-side socket standing for its source,
and the other way round, so each side only ever sees the other's stand-ins (a 1:1 NAT): media
cannot go around the relay, and ICE, which checks with STUN over the same 5-tuples, succeeds
through it.

Everything is carried (STUN, DTLS, SRTP and SRTCP, told apart by their first byte as RFC 7983
says), but only SRTP and SRTCP are impaired, so ICE and DTLS complete: each packet is lost
with probability ``loss`` and otherwise delayed by ``delay`` ± ``jitter`` (uniform), which
reorders some of them (packets 20 ms apart with 10–50 ms delays). Losses and delays come from
random generators seeded per direction and kind, so a run with the same packets loses the same
ones. ``counters`` says, per direction and kind, how many packets were carried and dropped.

``SignalingProxy`` is the HTTP side: the client talks WHIP/WHEP to it, it forwards to Salon and
rewrites the offer (and trickled candidates, RFC 8840) and the answer on the way.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import socket
from collections import Counter
from dataclasses import dataclass, field
from types import TracebackType
from typing import cast

import httpx

Address = tuple[str, int]

TO_SERVER, TO_CLIENT = "to-server", "to-client"

#: The relay's fixed seed: its losses over the first N RTP packets either way stay within one
#: percentage point of 5 % for every N from 300 to 2000 (test_relay_loss_is_reproducible).
SEED = 172

_CANDIDATE = re.compile(
    r"^a=candidate:(?P<foundation>\S+) (?P<component>\d+) (?P<transport>\S+) (?P<priority>\d+) "
    r"(?P<address>\S+) (?P<port>\d+) (?P<rest>typ .*)$",
    re.IGNORECASE,
)


def kind_of(packet: bytes) -> str:
    """What a datagram on a WebRTC 5-tuple carries, by its first byte (RFC 7983, RFC 5761)."""
    if not packet:
        return "other"
    first = packet[0]
    if first <= 3:
        return "stun"
    if 20 <= first <= 63:
        return "dtls"
    if 128 <= first <= 191:
        # RTCP packet types 192-223 (RFC 5761) in the second byte; anything else is RTP.
        return "rtcp" if len(packet) > 1 and 192 <= packet[1] <= 223 else "rtp"
    return "other"


IMPAIRED = ("rtp", "rtcp")


@dataclass
class Impairment:
    loss: float = 0.05
    delay: float = 0.030
    jitter: float = 0.020
    seed: int = SEED


def loss_generator(seed: int, direction: str, kind: str) -> random.Random:
    return random.Random(f"loss {direction} {kind} {seed}")


@dataclass
class Counters:
    """Packets per (direction, kind): carried (forwarded, perhaps late) and dropped."""

    carried: Counter[tuple[str, str]] = field(default_factory=Counter)
    dropped: Counter[tuple[str, str]] = field(default_factory=Counter)

    def summary(self) -> dict[str, dict[str, int]]:
        keys = sorted(set(self.carried) | set(self.dropped))
        return {
            f"{direction} {kind}": {
                "carried": self.carried[direction, kind],
                "dropped": self.dropped[direction, kind],
            }
            for direction, kind in keys
        }


class _Socket(asyncio.DatagramProtocol):
    """One relay socket standing in for ``target`` (a real candidate of the other side)."""

    def __init__(self, relay: LossyRelay, target: Address, toward: str) -> None:
        self.relay = relay
        self.target = target
        self.toward = toward
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (asyncio's own datagram transport is no DatagramTransport subclass in Python 3.11.)
        self.transport = cast(asyncio.DatagramTransport, transport)

    @property
    def address(self) -> Address:
        assert self.transport is not None
        name: Address = self.transport.get_extra_info("sockname")[:2]
        return name

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.relay.received(self, data, (str(addr[0]), int(addr[1])))

    def send(self, data: bytes, to: Address) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, to)


class LossyRelay:
    """``async with LossyRelay() as relay``: ``relay.offer(sdp)`` before the server sees a
    client's offer, ``relay.answer(sdp)`` before the client sees the server's answer."""

    def __init__(self, impairment: Impairment | None = None) -> None:
        self.impairment = impairment or Impairment()
        self.counters = Counters()
        #: Client-side stand-ins by the real client address they stand for, and server-side
        #: ones by the real server address.
        self._for_client: dict[Address, _Socket] = {}
        self._for_server: dict[Address, _Socket] = {}
        self._losses: dict[tuple[str, str], random.Random] = {}
        self._delays = random.Random(f"delay {self.impairment.seed}")
        self._pending: set[asyncio.TimerHandle] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._opening: dict[tuple[str, Address], asyncio.Future[_Socket]] = {}
        #: Every candidate address an SDP named, and every address packets came from.
        self._named: set[Address] = set()
        self._sources: set[Address] = set()

    async def __aenter__(self) -> LossyRelay:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def unnamed_sources(self) -> set[Address]:
        """Addresses packets came from that no SDP named as a candidate (peer-reflexive ones:
        a path the SDPs did not tell of). Relayed all the same."""
        return self._sources - self._named

    async def close(self) -> None:
        for handle in self._pending:
            handle.cancel()
        self._pending.clear()
        for task in self._tasks:
            task.cancel()
        for sock in (*self._for_client.values(), *self._for_server.values()):
            if sock.transport is not None:
                sock.transport.close()

    # -- SDP ------------------------------------------------------------------------------------

    async def offer(self, sdp: str) -> str:
        """The client's offer (or trickled fragment) as the server must see it."""
        return await self._rewrite(sdp, self._for_client, TO_CLIENT)

    async def answer(self, sdp: str) -> str:
        """The server's answer as the client must see it."""
        return await self._rewrite(sdp, self._for_server, TO_SERVER)

    async def _rewrite(self, sdp: str, stand_ins: dict[Address, _Socket], toward: str) -> str:
        out: list[str] = []
        for line in sdp.splitlines():
            match = _CANDIDATE.match(line.strip())
            if match is None:
                out.append(line)
                continue
            address, port = match["address"], int(match["port"])
            if match["transport"].lower() != "udp" or not _is_ipv4(address):
                continue  # a path the relay does not carry: media must not take it
            real = (address, port)
            self._named.add(real)
            relay_port = (await self._stand_in(stand_ins, real, toward)).address[1]
            rest = re.sub(r" raddr \S+ rport \d+", "", match["rest"])
            out.append(
                f"a=candidate:{match['foundation']} {match['component']} {match['transport']} "
                f"{match['priority']} {address} {relay_port} {rest}"
            )
        ending = "\r\n" if sdp.endswith(("\r\n", "\n")) else ""
        return "\r\n".join(out) + ending

    async def _stand_in(
        self, stand_ins: dict[Address, _Socket], real: Address, toward: str
    ) -> _Socket:
        """The relay socket standing in for ``real``, opened on first use on the same address
        as ``real`` (so routing is as without the relay). Packets can ask for it before the SDP
        naming ``real`` went through (the server checks as soon as it answered): both get the
        same socket."""
        if real in stand_ins:
            return stand_ins[real]
        key = (toward, real)
        if key not in self._opening:
            self._opening[key] = asyncio.ensure_future(self._open(real, toward))
        sock = await self._opening[key]
        stand_ins[real] = sock
        return sock

    async def _open(self, real: Address, toward: str) -> _Socket:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_datagram_endpoint(
            lambda: _Socket(self, real, toward), local_addr=(real[0], 0), family=socket.AF_INET
        )
        return protocol

    # -- packets --------------------------------------------------------------------------------

    def received(self, on: _Socket, data: bytes, source: Address) -> None:
        """``on`` stands in for ``on.target``; ``source`` is the real sender on the other side.
        Forward from the stand-in for ``source`` to ``on.target``."""
        if on.toward == TO_SERVER:
            stand_ins, back = self._for_client, TO_CLIENT
        else:
            stand_ins, back = self._for_server, TO_SERVER
        self._sources.add(source)
        out = stand_ins.get(source)
        if out is not None:
            self._forward(out, on.target, data, on.toward)
            return
        # A source no SDP that went through has named yet: open its stand-in, then forward.
        task = asyncio.ensure_future(self._open_then_send(stand_ins, source, back, data, on))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _open_then_send(
        self,
        stand_ins: dict[Address, _Socket],
        source: Address,
        back: str,
        data: bytes,
        on: _Socket,
    ) -> None:
        out = await self._stand_in(stand_ins, source, back)
        self._forward(out, on.target, data, on.toward)

    def _forward(self, out: _Socket, to: Address, data: bytes, direction: str) -> None:
        kind = kind_of(data)
        key = (direction, kind)
        if kind not in IMPAIRED:
            self.counters.carried[key] += 1
            out.send(data, to)
            return
        losses = self._losses.get(key)
        if losses is None:
            losses = self._losses[key] = loss_generator(self.impairment.seed, direction, kind)
        if losses.random() < self.impairment.loss:
            self.counters.dropped[key] += 1
            return
        self.counters.carried[key] += 1
        delay = self.impairment.delay + self._delays.uniform(
            -self.impairment.jitter, self.impairment.jitter
        )
        handle: asyncio.TimerHandle | None = None

        def send() -> None:
            if handle is not None:
                self._pending.discard(handle)
            out.send(data, to)

        handle = asyncio.get_running_loop().call_later(max(0.0, delay), send)
        self._pending.add(handle)


def _is_ipv4(address: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET, address)
    except OSError:
        return False
    return True


#: Response headers the proxy sets itself (httpx has already decoded the body).
HOP_BY_HOP = ("content-length", "connection", "transfer-encoding", "content-encoding")


class SignalingProxy:
    """A minimal HTTP/1.1 front for WHIP/WHEP: forwards each request to ``upstream`` and passes
    offers (and trickled fragments) and answers through ``relay``. One request per connection
    (it answers ``Connection: close``), which is what urllib and most WHIP clients do."""

    def __init__(self, upstream: str, relay: LossyRelay) -> None:
        self.upstream = upstream.rstrip("/")
        self.relay = relay
        self._server: asyncio.Server | None = None
        self._http = httpx.AsyncClient(base_url=self.upstream, timeout=30)
        #: (method, path, status) of every request forwarded.
        self.requests: list[tuple[str, str, int]] = []

    async def __aenter__(self) -> SignalingProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await self._server.wait_closed()
        await self._http.aclose()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(30):
                await self._exchange(reader, writer)
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request_line = (await reader.readline()).decode("latin-1").strip()
        method, target, _ = request_line.split(" ", 2)
        headers: dict[str, str] = {}
        while (line := (await reader.readline()).decode("latin-1").strip()) != "":
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type in ("application/sdp", "application/trickle-ice-sdpfrag"):
            body = (await self.relay.offer(body.decode())).encode()
        forwarded = {
            name: value
            for name, value in headers.items()
            if name in ("authorization", "content-type", "accept", "if-match", "cookie")
        }
        response = await self._http.request(method, target, content=body, headers=forwarded)
        self.requests.append((method, target, response.status_code))
        content = response.content
        if response.headers.get("content-type", "").startswith("application/sdp"):
            content = (await self.relay.answer(content.decode())).encode()
        lines = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
        for name, value in response.headers.items():
            if name.lower() not in HOP_BY_HOP:
                lines.append(f"{name}: {value}")
        lines += [f"Content-Length: {len(content)}", "Connection: close", "", ""]
        writer.write("\r\n".join(lines).encode("latin-1") + content)
        await writer.drain()
