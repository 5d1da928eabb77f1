"""A bot on the stage: publishes a track over WHIP and records what it hears back."""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType

import av
import httpx
import numpy as np
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from salon.media.pcm import SAMPLE_RATE, Pcm


class WhipSpeaker:
    """Speak into a space over WebRTC (WHIP) and keep what comes back (the mix-minus).

    ``async with WhipSpeaker(base_url, space_id, token, track) as bot: ...`` connects on entry
    and hangs up on exit. ``heard`` holds the received audio as 48 kHz mono PCM chunks.
    """

    def __init__(
        self,
        base_url: str,
        space_id: str,
        token: str,
        track: MediaStreamTrack,
        *,
        keep_seconds: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.space_id = space_id
        self.token = token
        self.track = track
        self.keep_samples = int(keep_seconds * SAMPLE_RATE)
        self.heard: list[Pcm] = []
        self.location: str | None = None
        self.pc = RTCPeerConnection()
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
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as client:
            response = await client.post(
                f"/api/spaces/{self.space_id}/whip",
                content=self.pc.localDescription.sdp,
                headers={"Content-Type": "application/sdp", **self._auth},
            )
        if response.status_code != 201:
            await self.pc.close()
            raise WhipRefused(response.status_code, response.text)
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
                for mono in resampler.resample(frame):
                    self.heard.append(mono.to_ndarray().reshape(-1).astype(np.int16))
                while sum(len(c) for c in self.heard) > self.keep_samples:
                    self.heard.pop(0)
        self.closed.set()

    def recent(self, seconds: float) -> Pcm:
        """The last ``seconds`` of what this bot heard."""
        if not self.heard:
            return np.zeros(0, dtype=np.int16)
        audio = np.concatenate(self.heard)
        return audio[-int(seconds * SAMPLE_RATE) :]

    def forget(self) -> None:
        self.heard.clear()

    async def hang_up(self) -> None:
        if self.location is not None:
            with contextlib.suppress(httpx.HTTPError):
                async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as client:
                    await client.delete(self.location, headers=self._auth)
            self.location = None
        if self._reader is not None:
            self._reader.cancel()
        await self.pc.close()


class WhipRefused(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"WHIP offer refused with {status}: {body}")
        self.status = status
