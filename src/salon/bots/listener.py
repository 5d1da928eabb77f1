"""A bot in the audience: follows a space's LL-HLS stream like a player and decodes it."""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
from collections import deque
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urljoin

import av
import httpx
import numpy as np

from salon.bots.events import refusal
from salon.bots.outcomes import GaveUp, SpaceOver, problem_detail, unreachable
from salon.bots.playlist import Part, Playlist
from salon.bots.retry import Backoff, Clock, Patience
from salon.media.pcm import SAMPLE_RATE, Pcm

DEFAULT_GIVE_UP_SECONDS = 60.0
#: Longer than a blocking reload may wait (three target durations) before the server says 503.
REQUEST_SECONDS = 10.0
#: How much of what arrived ``since()`` can still return.
KEEP_SECONDS = 30.0


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


@dataclass(frozen=True, slots=True)
class ListenerStatus:
    """What arrived over one stretch of time, and what is wrong if anything."""

    #: Parts arrived in the stretch (``audio`` is exactly their audio).
    hearing: bool
    audio: Pcm
    #: Why nothing arrived ("reconnecting: ..."), "" otherwise.
    note: str


class _Trouble(Exception):
    """Following stopped for a reason worth trying again after a backoff."""

    def __init__(self, reason: str, *, relocate: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        #: Ask ``/listen`` again (where the audio is, a fresh credential, whether it ended).
        self.relocate = relocate


class HlsListener:
    """Asks where the audio is, then follows the live playlist with blocking reloads.

    In a ticketed space it renews its audio credential before it expires. When the server
    cannot be reached or answers with an error, or the stream jumps (a restarted server's new
    run, EXT-X-DISCONTINUITY, numbers going back), it keeps following: it asks again with
    backoff, starts again from the live edge, fetches the init section again and resets its
    decoder; after ``give_up_after`` seconds without a part it stops with ``GaveUp``.

    ``listen(seconds)`` returns the decoded audio (48 kHz mono) of the parts published while
    listening; ``run()`` follows until the stream ends, keeping what arrived for ``since()``.
    ``delays`` records, per part, how long after its end (program date-time) it arrived here;
    ``max_gap_samples`` the largest hole between consecutive parts of one continuous stretch;
    ``resyncs`` how often it lost its place and started again.
    """

    def __init__(
        self,
        base_url: str,
        space_id: str,
        *,
        headers: dict[str, str] | None = None,
        give_up_after: float = DEFAULT_GIVE_UP_SECONDS,
        request_timeout: float = REQUEST_SECONDS,
        clock: Clock = time.monotonic,
    ):
        self.base_url = base_url.rstrip("/")
        self.space_id = space_id
        self._client = httpx.AsyncClient(
            base_url=self.base_url, headers=headers, timeout=request_timeout
        )
        self._clock = clock
        self.playlist_url = ""
        self._renew_at: float | None = None
        self.delays: list[float] = []
        self.resyncs = 0
        #: What is wrong now, in a few words ("" while parts arrive).
        self.problem = ""
        self._decoder: PartDecoder | None = None
        self._map_uri = ""
        self._earlier_gap = 0
        self._last: Part | None = None
        self._position: tuple[int, int] | None = None
        self._arrived: deque[tuple[float, Pcm]] = deque()
        self._patience = Patience(give_up_after, clock)
        # As the web app's player retries its playlist (0.25 s doubling to 2 s): a player
        # that waited up to 5 s would hear a media failover seconds after it was over.
        self._backoff = Backoff(first=0.25, longest=2.0)

    @property
    def max_gap_samples(self) -> int:
        current = self._decoder.max_gap_samples if self._decoder is not None else 0
        return max(self._earlier_gap, current)

    async def __aenter__(self) -> HlsListener:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._client.aclose()

    # -- what callers use ---------------------------------------------------------------------

    async def listen(self, seconds: float) -> Pcm:
        """The audio of the parts published from now on, until ``seconds`` of it arrived (or
        the stream ended)."""
        self._position, self._last = None, None  # from the live edge, like a player joining
        self._patience.ok()
        chunks: list[Pcm] = []
        needed = int(seconds * SAMPLE_RATE)
        async with contextlib.aclosing(self._follow()) as parts:
            async for pcm in parts:
                chunks.append(pcm)
                if sum(len(c) for c in chunks) >= needed:
                    break
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)

    async def run(self) -> None:
        """Follow until the stream ends (``SpaceOver``) or the bot stops (``BotStopped``)."""
        self._patience.ok()
        async with contextlib.aclosing(self._follow()) as parts:
            async for pcm in parts:
                self._arrived.append((self._clock(), pcm))
                while self._arrived and self._arrived[0][0] < self._clock() - KEEP_SECONDS:
                    self._arrived.popleft()
        raise SpaceOver("the stream ended: the space is over")

    def status(self, since: float) -> ListenerStatus:
        """What arrived from ``since`` (``clock`` time) on, never anything older."""
        fresh = [pcm for arrived, pcm in self._arrived if arrived >= since]
        if fresh:
            return ListenerStatus(True, np.concatenate(fresh), "")
        return ListenerStatus(
            False, np.zeros(0, dtype=np.int16), self.problem or "no part arriving"
        )

    # -- following ----------------------------------------------------------------------------

    async def _follow(self) -> AsyncGenerator[Pcm, None]:
        """Each part's audio as it arrives, across errors and restarts; returns at ENDLIST."""
        while True:
            try:
                async for pcm in self._follow_stream():
                    self._patience.ok()
                    self._backoff.reset()
                    self.problem = ""
                    yield pcm
                return
            except _Trouble as trouble:
                reason = trouble.reason
                if trouble.relocate:
                    self.playlist_url = ""
            except httpx.TransportError as exc:
                reason, self.playlist_url = unreachable(exc), ""
            self._position = None  # start again from the live edge
            self.problem = f"reconnecting: {reason}"
            if self._patience.exhausted:
                raise GaveUp(
                    f"gave up after {self._patience.seconds:g} s without a part of the "
                    f"stream: {reason}"
                )
            await asyncio.sleep(self._backoff.next())

    async def _follow_stream(self) -> AsyncGenerator[Pcm, None]:
        if not self.playlist_url:
            await self._locate()
        if self._position is None:
            playlist = await self._playlist()
            last = playlist.parts[-1] if playlist.parts else None
            self._position = (last.msn, last.index + 1) if last else (playlist.media_sequence, 0)
            if playlist.ended:
                return
        empty = 0
        while True:
            playlist = await self._playlist(*self._position)
            fresh = [p for p in playlist.parts if (p.msn, p.index) >= self._position]
            if not fresh:
                if playlist.ended:
                    return
                empty += 1
                if empty > 1:
                    # Still nothing at or after our place: the stream's numbers went back.
                    raise _Trouble("the stream started over", relocate=False)
                # The part asked for was cut at a segment boundary: ask for the next segment.
                self._position = (self._position[0] + 1, 0)
                continue
            empty = 0
            for part in fresh:
                yield await self._take(part, playlist)

    async def _take(self, part: Part, playlist: Playlist) -> Pcm:
        """Fetch and decode one part; a new decoder (and init section) where the stream
        jumped (a restart, a discontinuity, parts missed) or its init section changed."""
        if not self._continues(part) or playlist.map_uri != self._map_uri:
            if self._last is not None:
                self.resyncs += 1
            if self._decoder is not None:
                self._earlier_gap = max(self._earlier_gap, self._decoder.max_gap_samples)
            self._decoder = PartDecoder(await self._get(playlist.map_uri))
            self._map_uri = playlist.map_uri
        assert self._decoder is not None
        data = await self._get(part.uri)
        arrived = time.time()
        start = playlist.starts.get(part.msn)
        if start is not None:
            offset = sum(
                p.duration for p in playlist.parts if p.msn == part.msn and p.index < part.index
            )
            self.delays.append(arrived - (start.timestamp() + offset + part.duration))
        try:
            pcm = self._decoder.decode(data)
        except av.error.FFmpegError as exc:
            raise _Trouble(f"an undecodable part {part.uri} ({exc})", relocate=False) from None
        self._last = part
        self._position = (part.msn, part.index + 1)
        return pcm

    def _continues(self, part: Part) -> bool:
        last = self._last
        if last is None or self._decoder is None or part.discontinuity != last.discontinuity:
            return False
        return (part.msn, part.index) in ((last.msn, last.index + 1), (last.msn + 1, 0))

    # -- requests -----------------------------------------------------------------------------

    async def _locate(self) -> None:
        """Ask where the audio is (and, in a ticketed space, for a fresh credential)."""
        response = await self._client.get(f"/api/spaces/{self.space_id}/listen")
        if response.status_code != 200:
            await refusal(
                self._client, self.space_id, response.status_code, problem_detail(response)
            )
            raise _Trouble(f"/listen answered HTTP {response.status_code}")
        access = response.json()
        if access.get("replay"):
            raise SpaceOver("the space has ended (its recording can be replayed)")
        self.playlist_url = urljoin(self.base_url + "/", access["playlist_url"])
        expires_in = access.get("expires_in")
        # Renew at 70 % of the credential's life, well before it runs out.
        self._renew_at = self._clock() + 0.7 * expires_in if expires_in else None

    async def _playlist(self, msn: int | None = None, part: int | None = None) -> Playlist:
        if self._renew_at is not None and self._clock() >= self._renew_at:
            await self._locate()
        url = self.playlist_url
        if msn is not None:
            url += f"?_HLS_msn={msn}&_HLS_part={part or 0}"
        response = await self._client.get(url)
        if response.status_code == 400 and msn is not None:
            # Asked past the stream's end: a new stream numbered lower than the old one.
            raise _Trouble("the stream started over", relocate=False)
        self._check(response, "the playlist")
        try:
            return Playlist.parse(response.text)
        except (ValueError, KeyError) as exc:
            raise _Trouble(f"an unreadable playlist ({exc})") from None

    async def _get(self, uri: str) -> bytes:
        response = await self._client.get(urljoin(self.playlist_url, uri))
        self._check(response, uri)
        return response.content

    @staticmethod
    def _check(response: httpx.Response, what: str) -> None:
        if response.status_code != 200:
            raise _Trouble(f"{what} answered HTTP {response.status_code}")
