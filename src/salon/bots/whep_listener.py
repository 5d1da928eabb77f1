"""A bot in the audience over WebRTC: listens to a space's program mix by WHEP and decodes it.

Like a WHEP player, it posts a receive-only offer to ``/api/spaces/{id}/whep`` (any node: it
reaches the node that runs the space's media) and offers again, with a new connection, when
the one it has ends: the connection fails or is closed, no audio arrives for a while (a node
killed outright says nothing), or the session answers 404/410 (the reason the server gives
is kept). It hangs its session up (DELETE) when stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from types import TracebackType
from typing import Any

import av
import httpx
import numpy as np
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from salon.bots.events import refusal
from salon.bots.listener import ListenerStatus
from salon.bots.outcomes import GaveUp, problem_detail, unreachable
from salon.bots.retry import Backoff, Clock, Patience
from salon.bots.stage_bot import fetch_ice_servers
from salon.media.mixer import downmix_to_mono
from salon.media.pcm import SAMPLE_RATE, Pcm

DEFAULT_GIVE_UP_SECONDS = 60.0
#: Each offer (gathering, the POST, applying the answer), and the wait for its first audio,
#: is over within this.
ATTEMPT_SECONDS = 10.0
#: The server sends the program every 20 ms, silence too: this long without a frame is a
#: connection that is gone (a node killed outright closes nothing).
STALL_SECONDS = 2.0
#: How much of what arrived ``status()`` can still return.
KEEP_SECONDS = 30.0
#: Telling the server it hung up is bounded by this (stopping must not wait long).
HANG_UP_SECONDS = 2.0


class _Trouble(Exception):
    """An offer that did not work, worth trying again (after ``retry_after``, if said)."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class _Connection:
    """One WHEP session: its RTCPeerConnection, its session URL, and when audio last came."""

    def __init__(self, ice_servers: list[RTCIceServer]) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=ice_servers))
        self.location: str | None = None
        self.closed = asyncio.Event()
        self.heard_at: float | None = None
        self.reader: asyncio.Task[None] | None = None

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            await asyncio.gather(self.reader, return_exceptions=True)
        await self.pc.close()


class WhepListener:
    """``await WhepListener(base_url, space_id).run()`` listens until cancelled or stopped.

    ``token``: a bearer token (a ticketed space's audio is for ticket holders); without one
    it listens signed out, as anyone may to a free space. STUN/TURN servers come from
    ``/ice-servers`` when it has a token (host candidates only until that answers), else
    ``ice_servers`` (default: host candidates only).

    Offers are answered with backoff (0.25 s doubling to 2 s, as the web player; a 503's
    ``Retry-After`` is waited out in full); 401/403/404 and a space that is not live stop it
    (``Refused``, ``SpaceOver``), and ``give_up_after`` seconds without audio stop it with
    ``GaveUp``. ``offers`` counts the offers the server answered; ``endings`` says why each
    session ended (the server's 410 reason where it gave one).

    ``status(since)`` is what arrived from ``since`` on (48 kHz mono), like ``HlsListener``;
    ``listen(seconds)`` the audio arriving from now on.
    """

    def __init__(
        self,
        base_url: str,
        space_id: str,
        *,
        token: str | None = None,
        give_up_after: float = DEFAULT_GIVE_UP_SECONDS,
        attempt_timeout: float = ATTEMPT_SECONDS,
        stall_after: float = STALL_SECONDS,
        ice_servers: list[RTCIceServer] | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.space_id = space_id
        self.token = token
        self.attempt_timeout = attempt_timeout
        self.stall_after = stall_after
        self.endpoint = f"/api/spaces/{space_id}/whep"
        headers = {"Authorization": f"Bearer {token}"} if token else None
        self._client = httpx.AsyncClient(
            base_url=self.base_url, headers=headers, timeout=attempt_timeout
        )
        self._ice_servers = ice_servers
        self._clock = clock
        #: Offers the server answered (201), over the bot's life.
        self.offers = 0
        #: Why each session ended, oldest first.
        self.endings: list[str] = []
        #: What is wrong now, in a few words ("" while audio arrives).
        self.problem = "connecting"
        self._connection: _Connection | None = None
        self._arrived: deque[tuple[float, Pcm]] = deque()
        self._arrival = asyncio.Event()
        self._running = False
        self._patience = Patience(give_up_after, clock)
        self._backoff = Backoff(first=0.25, longest=2.0)

    @property
    def location(self) -> str | None:
        """The current session's URL (None between sessions)."""
        return self._connection.location if self._connection is not None else None

    async def __aenter__(self) -> WhepListener:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
        await self._client.aclose()

    # -- what callers use ---------------------------------------------------------------------

    async def run(self) -> None:
        """Listen, offering again whenever a session ends, until cancelled or stopped
        (``BotStopped``); the session is hung up on the way out."""
        if self._running:
            raise RuntimeError("this WhepListener is running already")
        self._running = True
        self._patience.ok()
        try:
            while True:
                asked = 0.0
                try:
                    why = await self._listen_once()
                except _Trouble as trouble:
                    why, asked = trouble.reason, trouble.retry_after or 0.0
                except (httpx.TransportError, OSError) as exc:
                    why = unreachable(exc)
                self.problem = f"reconnecting: {why}"
                left = self._patience.seconds - self._patience.waited
                if left <= 0 or asked > left:
                    told = f" (asked to wait {asked:g} s)" if asked > left > 0 else ""
                    raise GaveUp(
                        f"gave up after {self._patience.seconds:g} s without hearing the "
                        f"space: {why}{told}"
                    )
                await asyncio.sleep(max(self._backoff.next(), asked))
        finally:
            self._running = False
            await self.stop()

    async def stop(self) -> None:
        """Hang the current session up (DELETE, bounded) and close its connection."""
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await self._hang_up(connection, timeout=HANG_UP_SECONDS)
            await connection.close()

    def status(self, since: float) -> ListenerStatus:
        """What arrived from ``since`` (``clock`` time) on, never anything older."""
        fresh = [pcm for arrived, pcm in self._arrived if arrived >= since]
        if fresh:
            return ListenerStatus(True, np.concatenate(fresh), "")
        return ListenerStatus(
            False, np.zeros(0, dtype=np.int16), self.problem or "no audio arriving"
        )

    async def listen(self, seconds: float) -> Pcm:
        """The audio arriving from now on, once ``seconds`` of it did (running the bot
        meanwhile unless ``run()`` already is)."""
        start = self._clock()
        needed = int(seconds * SAMPLE_RATE)
        runner = None if self._running else asyncio.create_task(self.run())
        try:
            while len(audio := self.status(start).audio) < needed:
                arrival = asyncio.ensure_future(self._arrival.wait())
                waits: set[asyncio.Future[Any]] = {arrival}
                if runner is not None:
                    waits.add(runner)
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                arrival.cancel()
                if runner is not None and runner.done():
                    runner.result()  # its BotStopped
            return audio
        finally:
            if runner is not None:
                runner.cancel()
                await asyncio.gather(runner, return_exceptions=True)

    # -- one session --------------------------------------------------------------------------

    async def _listen_once(self) -> str:
        """Offer, then listen until the session ends; why it ended."""
        connection = _Connection(await self._ice())
        self._connection = connection
        try:
            async with asyncio.timeout(self.attempt_timeout):
                await self._offer(connection)
        except TimeoutError:
            await self._drop(connection)
            raise _Trouble("the offer timed out") from None
        except BaseException:
            await self._drop(connection)
            raise
        self.offers += 1
        answered = self._clock()
        why = await self._until_over(connection, answered)
        # Ask the server about it (and free its place if it still holds one): a session it
        # ended answers 410 with the reason.
        said = await self._hang_up(connection, timeout=HANG_UP_SECONDS)
        await self._drop(connection)
        why = said or why
        self.endings.append(why)
        if connection.heard_at is not None:
            self._backoff.reset()  # it worked: offer again promptly
        return why

    async def _offer(self, connection: _Connection) -> None:
        pc = connection.pc
        pc.addTransceiver("audio", direction="recvonly")

        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "audio" and connection.reader is None:
                connection.reader = asyncio.create_task(self._read(connection, track))

        def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                connection.closed.set()

        pc.on("track", on_track)
        pc.on("connectionstatechange", on_state)
        await pc.setLocalDescription(await pc.createOffer())
        response = await self._client.post(
            self.endpoint,
            content=pc.localDescription.sdp,
            headers={"Content-Type": "application/sdp"},
        )
        if response.status_code != 201:
            detail = problem_detail(response)
            await refusal(self._client, self.space_id, response.status_code, detail)
            if response.status_code == 503 and "alternate" in response.headers.get("link", ""):
                detail += " (a 503 with the LL-HLS address: use HlsListener there)"
            raise _Trouble(
                f"the offer was answered HTTP {response.status_code}: {detail}",
                retry_after=_retry_after(response),
            )
        connection.location = response.headers.get("location")
        try:
            await pc.setRemoteDescription(RTCSessionDescription(response.text, "answer"))
        except Exception as exc:  # aiortc raises many kinds on an unusable answer
            raise _Trouble(f"the SDP answer could not be used ({exc})") from None

    async def _until_over(self, connection: _Connection, answered: float) -> str:
        """Wait for the connection to end or go quiet; why."""
        while True:
            if connection.heard_at is None:
                deadline, quiet = answered + self.attempt_timeout, "no audio after the answer"
            else:
                deadline, quiet = connection.heard_at + self.stall_after, "the audio stopped"
            left = deadline - self._clock()
            if left <= 0:
                return f"{quiet} ({self._clock() - (connection.heard_at or answered):.1f} s)"
            with contextlib.suppress(TimeoutError):
                # Never longer than a stall: audio that starts meanwhile moves the deadline.
                async with asyncio.timeout(min(left, self.stall_after)):
                    await connection.closed.wait()
                state = connection.pc.connectionState
                if state in ("failed", "closed"):
                    return f"the connection is {state}"
                return "the server closed the connection"

    async def _read(self, connection: _Connection, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if not isinstance(frame, av.AudioFrame):
                    continue
                samples = frame.to_ndarray().astype(np.int16)  # aiortc decodes to s16
                pcm = downmix_to_mono(samples, len(frame.layout.channels))
                now = self._clock()
                connection.heard_at = now
                self._keep(now, pcm)
        connection.closed.set()

    def _keep(self, now: float, pcm: Pcm) -> None:
        self._arrived.append((now, pcm))
        while self._arrived and self._arrived[0][0] < now - KEEP_SECONDS:
            self._arrived.popleft()
        self._patience.ok()
        self.problem = ""
        self._arrival.set()
        self._arrival = asyncio.Event()

    async def _hang_up(self, connection: _Connection, *, timeout: float) -> str | None:  # noqa: ASYNC109
        """DELETE the session once; the server's reason when it had ended it already."""
        location, connection.location = connection.location, None
        if location is None:
            return None
        try:
            response = await self._client.delete(location, timeout=timeout)
        except httpx.HTTPError:
            return None
        if response.status_code == 410:
            return problem_detail(response)
        if response.status_code == 404:
            return "the session is gone (404)"
        return None

    async def _drop(self, connection: _Connection) -> None:
        if self._connection is connection:
            self._connection = None
        await connection.close()

    async def _ice(self) -> list[RTCIceServer]:
        """The server's STUN/TURN list (asked once, with a token), else ``ice_servers``."""
        if self._ice_servers is not None or not self.token:
            return self._ice_servers or []
        self._ice_servers = await fetch_ice_servers(self._client, self.space_id)
        return self._ice_servers or []


def _retry_after(response: httpx.Response) -> float | None:
    """A ``Retry-After`` in seconds (the HTTP-date form is not used by Salon)."""
    try:
        return max(0.0, float(response.headers["retry-after"]))
    except (KeyError, ValueError):
        return None
