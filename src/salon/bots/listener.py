"""A bot in the audience: follows a space's LL-HLS stream like a player and decodes it."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from urllib.parse import urljoin

import av
import httpx
import numpy as np

from salon.media.pcm import SAMPLE_RATE, Pcm


@dataclass
class Part:
    msn: int
    index: int
    uri: str
    duration: float


@dataclass
class Playlist:
    """The few things a follower needs from an LL-HLS media playlist."""

    media_sequence: int
    map_uri: str
    parts: list[Part]
    ended: bool
    #: Program date-time of each segment's start, by media sequence number.
    starts: dict[int, datetime] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Playlist:
        if not text.startswith("#EXTM3U"):
            raise ValueError("not an HLS playlist")
        msn = 0
        index = 0
        map_uri = ""
        parts: list[Part] = []
        starts: dict[int, datetime] = {}
        ended = False
        for line in text.splitlines():
            if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
                msn = int(line.split(":", 1)[1])
            elif line.startswith("#EXT-X-MAP:"):
                map_uri = _attributes(line)["URI"]
            elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
                starts[msn] = datetime.fromisoformat(line.split(":", 1)[1].replace("Z", "+00:00"))
            elif line.startswith("#EXT-X-PART:"):
                attrs = _attributes(line)
                parts.append(Part(msn, index, attrs["URI"], float(attrs["DURATION"])))
                index += 1
            elif line and not line.startswith("#"):
                msn += 1
                index = 0
            elif line.startswith("#EXT-X-ENDLIST"):
                ended = True
        return cls(msn, map_uri, parts, ended, starts)


def _attributes(line: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    body = line.split(":", 1)[1]
    key, value, quoted, current = "", "", False, ""
    for char in body + ",":
        if char == '"':
            quoted = not quoted
        elif char == "=" and not quoted and not key:
            key, current = current, ""
        elif char == "," and not quoted:
            value, current = current, ""
            attrs[key] = value
            key = ""
        else:
            current += char
    return attrs


class PartDecoder:
    """Decodes fMP4 parts in order, like a player: one AAC decoder across part boundaries.

    ``max_gap_samples`` is the largest hole seen between consecutive AAC frames.
    """

    def __init__(self, init: bytes) -> None:
        self.init = init
        self.max_gap_samples = 0
        self._codec = av.CodecContext.create("aac", "r")
        self._next_pts: int | None = None

    def decode(self, fragment: bytes) -> Pcm:
        """One part's audio as 48 kHz mono int16."""
        out: list[Pcm] = []
        with av.open(io.BytesIO(self.init + fragment), mode="r", format="mp4") as container:
            stream = container.streams.audio[0]
            if self._codec.extradata is None:
                self._codec.extradata = stream.codec_context.extradata
            for packet in container.demux(stream):
                if packet.size == 0 or packet.pts is None:
                    continue
                if self._next_pts is not None:
                    self.max_gap_samples = max(self.max_gap_samples, packet.pts - self._next_pts)
                self._next_pts = packet.pts + 1024
                for frame in self._codec.decode(packet):
                    pcm = frame.to_ndarray()
                    mono = pcm.mean(axis=0) if pcm.ndim == 2 else pcm
                    out.append(np.clip(mono * 32767, -32768, 32767).astype(np.int16))
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int16)


class HlsListener:
    """Asks where the audio is, then follows the live playlist with blocking reloads.

    In a ticketed space it renews its audio credential before it expires.

    ``listen(seconds)`` returns the decoded audio (48 kHz mono) of the parts published while
    listening. ``delays`` records, per part, how long after its end (program date-time) it
    arrived here; ``max_gap_samples`` the largest hole between consecutive parts.
    """

    def __init__(self, base_url: str, space_id: str, *, headers: dict[str, str] | None = None):
        self.base_url = base_url.rstrip("/")
        self.space_id = space_id
        self._client = httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=30)
        self._decoder: PartDecoder | None = None
        self.playlist_url = ""
        self._renew_at: float | None = None
        self.delays: list[float] = []

    @property
    def max_gap_samples(self) -> int:
        return self._decoder.max_gap_samples if self._decoder is not None else 0

    async def __aenter__(self) -> HlsListener:
        await self._locate()
        return self

    async def _locate(self) -> None:
        """Ask where the audio is (and, in a ticketed space, for a fresh credential)."""
        response = await self._client.get(f"/api/spaces/{self.space_id}/listen")
        response.raise_for_status()
        access = response.json()
        self.playlist_url = urljoin(self.base_url + "/", access["playlist_url"])
        expires_in = access.get("expires_in")
        # Renew at 70 % of the credential's life, well before it runs out.
        self._renew_at = time.monotonic() + 0.7 * expires_in if expires_in else None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._client.aclose()

    async def _playlist(self, msn: int | None = None, part: int | None = None) -> Playlist:
        if self._renew_at is not None and time.monotonic() >= self._renew_at:
            await self._locate()
        url = self.playlist_url
        if msn is not None:
            url += f"?_HLS_msn={msn}&_HLS_part={part or 0}"
        response = await self._client.get(url)
        response.raise_for_status()
        return Playlist.parse(response.text)

    async def _get(self, uri: str) -> bytes:
        response = await self._client.get(urljoin(self.playlist_url, uri))
        response.raise_for_status()
        return response.content

    async def listen(self, seconds: float) -> Pcm:
        playlist = await self._playlist()
        if self._decoder is None:
            self._decoder = PartDecoder(await self._get(playlist.map_uri))
        last = playlist.parts[-1] if playlist.parts else None
        want = (last.msn, last.index + 1) if last else (playlist.media_sequence, 0)
        chunks: list[Pcm] = []
        needed = int(seconds * SAMPLE_RATE)
        while sum(len(c) for c in chunks) < needed:
            playlist = await self._playlist(*want)
            fresh = [p for p in playlist.parts if (p.msn, p.index) >= want]
            if not fresh:
                if playlist.ended:
                    break
                # The part asked for was cut at a segment boundary: ask for the next segment.
                want = (want[0] + 1, 0)
                continue
            for part in fresh:
                data = await self._get(part.uri)
                arrived = time.time()
                start = playlist.starts.get(part.msn)
                if start is not None:
                    offset = sum(
                        p.duration
                        for p in playlist.parts
                        if p.msn == part.msn and p.index < part.index
                    )
                    self.delays.append(arrived - (start.timestamp() + offset + part.duration))
                chunks.append(self._decoder.decode(data))
                want = (part.msn, part.index + 1)
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
