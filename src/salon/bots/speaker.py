"""A bot on the stage: publishes a track over WHIP and records what it hears back."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from types import TracebackType

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

from salon.bots.outcomes import problem_detail
from salon.media.pcm import SAMPLE_RATE, Pcm


class WhipSpeaker:
    """Speak into a space over WebRTC (WHIP) and keep what comes back (the mix-minus).

    ``async with WhipSpeaker(base_url, space_id, token, track) as bot: ...`` connects on entry
    and hangs up on exit. ``heard`` holds the received audio as 48 kHz mono PCM chunks, and
    ``since(moment)`` only what arrived from that moment on (``time.monotonic``), so a caller
    can tell audio arriving now from audio kept from before.

    One object is one connection: to reconnect, make another (``StageBot`` does).
    """

    def __init__(
        self,
        base_url: str,
        space_id: str,
        token: str,
        track: MediaStreamTrack,
        *,
        keep_seconds: float = 30.0,
        ice_servers: list[RTCIceServer] | None = None,
        request_timeout: float = 30.0,
    ) -> None:
        """``ice_servers``: None for aiortc's default (a public STUN server), else these
        (e.g. the server's ``/ice-servers``; an empty list means host candidates only)."""
        self.base_url = base_url.rstrip("/")
        self.space_id = space_id
        self.token = token
        self.track = track
        self.keep_samples = int(keep_seconds * SAMPLE_RATE)
        self.request_timeout = request_timeout
        #: (arrival time by time.monotonic, audio), oldest first.
        self._chunks: deque[tuple[float, Pcm]] = deque()
        self._kept = 0
        self.location: str | None = None
        self.pc = RTCPeerConnection(
            RTCConfiguration(iceServers=ice_servers) if ice_servers is not None else None
        )
        self.closed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> WhipSpeaker:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.hang_up()

    async def connect(self) -> None:
        self.pc.addTransceiver(self.track, direction="sendrecv")
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        async with httpx.AsyncClient(
            base_url=self.base_url, timeout=self.request_timeout
        ) as client:
            response = await client.post(
                f"/api/spaces/{self.space_id}/whip",
                content=self.pc.localDescription.sdp,
                headers={"Content-Type": "application/sdp", **self._auth},
            )
        if response.status_code != 201:
            await self.pc.close()
            raise WhipRefused(response.status_code, problem_detail(response))
        self.location = response.headers["location"]
        await self.pc.setRemoteDescription(RTCSessionDescription(response.text, "answer"))

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            self._reader = asyncio.create_task(self._read(track))

    async def _on_state(self) -> None:
        if self.pc.connectionState in ("failed", "closed"):
            self.closed.set()

    async def _read(self, track: MediaStreamTrack) -> None:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if not isinstance(frame, av.AudioFrame):
                    continue
                arrived = time.monotonic()
                for mono in resampler.resample(frame):
                    self._keep(arrived, mono.to_ndarray().reshape(-1).astype(np.int16))
        self.closed.set()

    def _keep(self, arrived: float, pcm: Pcm) -> None:
        self._chunks.append((arrived, pcm))
        self._kept += len(pcm)
        while self._kept > self.keep_samples:
            self._kept -= len(self._chunks.popleft()[1])

    @property
    def heard(self) -> list[Pcm]:
        """What this bot heard (at most ``keep_seconds``), as chunks, oldest first."""
        return [pcm for _, pcm in self._chunks]

    @property
    def last_heard_at(self) -> float | None:
        """When (time.monotonic) the last audio frame arrived; None before the first."""
        return self._chunks[-1][0] if self._chunks else None

    def recent(self, seconds: float) -> Pcm:
        """The last ``seconds`` of what this bot heard, however long ago it arrived."""
        if not self._chunks:
            return np.zeros(0, dtype=np.int16)
        audio = np.concatenate(self.heard)
        return audio[-int(seconds * SAMPLE_RATE) :]

    def since(self, moment: float) -> Pcm:
        """Only the audio that arrived at or after ``moment`` (time.monotonic)."""
        fresh = [pcm for arrived, pcm in self._chunks if arrived >= moment]
        return np.concatenate(fresh) if fresh else np.zeros(0, dtype=np.int16)

    def forget(self) -> None:
        self._chunks.clear()
        self._kept = 0

    async def hang_up(self, *, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Tell the server (DELETE, bounded by ``timeout``), then close the connection."""
        if self.location is not None:
            with contextlib.suppress(httpx.HTTPError):
                async with httpx.AsyncClient(base_url=self.base_url, timeout=timeout) as client:
                    await client.delete(self.location, headers=self._auth)
            self.location = None
        if self._reader is not None:
            self._reader.cancel()
        await self.pc.close()


class WhipRefused(Exception):
    """The server answered the offer with ``status`` (not 201); ``detail`` says why."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"WHIP offer refused with {status}: {detail}")
        self.status = status
        self.detail = detail
