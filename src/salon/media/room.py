"""One live space's media: stage peers in, mix-minus out, the program mix to LL-HLS."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from salon.media.encoding import StageEncoding
from salon.media.hls.stream import LiveStream
from salon.media.levels import ActiveSpeakers
from salon.media.mixer import Mixer
from salon.media.pcm import FRAME_MS, FRAME_SAMPLES, Pcm
from salon.media.peer import StagePeer, opus_packet
from salon.media.trickle import EndedSessions
from salon.media.viewer import ProgramViewer
from salon.metrics import MIXER_LATE_TICKS, MIXER_TICKS_BEHIND, STAGE_PEERS, WHEP_VIEWERS

log = logging.getLogger(__name__)

TICK = FRAME_MS / 1000
#: Further behind than this, the clock skips ahead instead of catching up. A busy event loop
#: (hundreds of held playlist requests answered at once when a part lands) can hold the clock
#: back 100-300 ms; catching up keeps every part of the stream and its timeline on the wall
#: clock, at the cost of a few frames mixed back to back. Only a stall longer than this
#: (a second) gives up the lost time, which then shows as a jump in the stream.
MAX_LAG_TICKS = 50


def next_tick(due: float, now: float) -> tuple[float, float, bool]:
    """Plan the clock's next tick: ``(when it is due, how long to wait, whether to skip)``.

    ``due`` is when the last tick was due. A clock up to ``MAX_LAG_TICKS`` behind ticks at
    once until it has caught up; further behind, it skips ahead to ``now``.
    """
    due += TICK
    wait = due - now
    if -wait > MAX_LAG_TICKS * TICK:
        return now, 0.0, True
    return due, max(wait, 0.0), False


class Room:
    """The mixer clock and everything it drives, for one space.

    Every 20 ms: one frame from each speaker (silence if late), each speaker gets everyone
    else, listeners get everyone, and who is speaking is reported when it changes. The
    program is Opus-encoded once per tick for every quiet stage member (see encoding.py).
    """

    def __init__(
        self,
        space_id: str,
        *,
        ticketed: bool = False,
        stream: LiveStream,
        ice_servers: list[dict[str, Any]],
        on_speaking: Callable[[str, list[int]], None],
    ) -> None:
        self.space_id = space_id
        #: Whether its audio opens only with a credential (a ticketed space).
        self.ticketed = ticketed
        self.stream = stream
        self.mixer = Mixer()
        self.encoding = StageEncoding()
        #: The room's sample clock: the pts (so the RTP timestamp) of each tick's packets.
        self._pts = 0
        self.speakers = ActiveSpeakers()
        self.peers: dict[int, StagePeer] = {}
        #: WHEP viewers by session id: the program mix over WebRTC, nothing up.
        self.viewers: dict[str, ProgramViewer] = {}
        self._muted: dict[int, bool] = {}
        #: Sessions that ended here, and why, for a client asking about one afterwards.
        self.ended_sessions = EndedSessions()
        self._ice_servers = ice_servers
        self._on_speaking = on_speaking
        self._clock: asyncio.Task[None] | None = None
        self.ended = False

    def start(self) -> None:
        self._clock = asyncio.create_task(self._run(), name=f"mixer-{self.space_id}")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due, wait, skipped = next_tick(due, loop.time())
            if wait > 0:
                await asyncio.sleep(wait)
            elif skipped:
                MIXER_LATE_TICKS.inc()
            elif loop.time() - due > TICK:
                MIXER_TICKS_BEHIND.inc()
            try:
                self.tick(loop.time())
            except Exception:
                log.exception("mixer tick failed in space %s", self.space_id)

    def tick(self, now: float) -> None:
        mix = self.mixer.tick()
        self._send(mix.program, mix.minus, mix.levels)
        self.stream.push(mix.program)
        speaking = self.speakers.update(mix.levels, now)
        if speaking is not None:
            self._on_speaking(self.space_id, sorted(speaking))

    def _send(self, program: Pcm, minus: dict[int, Pcm], levels: dict[int, float]) -> None:
        pts = self._pts
        self._pts += FRAME_SAMPLES
        if not self.peers and not self.viewers:
            return  # no Opus at all for an empty audience
        encoded = self.encoding.tick(program, minus, levels, self.peers, viewers=len(self.viewers))
        shared = None if encoded.program is None else opus_packet(encoded.program, pts)
        if shared is not None:
            for viewer in self.viewers.values():
                viewer.feed(shared)
        for user_id, peer in self.peers.items():
            own = encoded.own.get(user_id)
            packet = shared if own is None else opus_packet(own, pts)
            if packet is not None:
                peer.outbound.feed(packet)

    async def connect(self, user_id: int, offer_sdp: str, *, muted: bool) -> StagePeer:
        """Open a speaker's connection; a new one replaces any they had (a reconnect)."""
        old = self.peers.get(user_id)
        if old is not None:
            await old.close(why="a newer connection of the same person replaced it")
        peer = StagePeer(
            user_id=user_id,
            ice_servers=self._ice_servers,
            on_audio=self.mixer.push,
            on_closed=self._forget,
        )
        await peer.answer(offer_sdp)
        self.peers[user_id] = peer
        self.mixer.add_input(user_id)
        # A mute event seen since the caller read ``muted`` from the database is newer.
        self.mixer.set_muted(user_id, self._muted.get(user_id, muted))
        STAGE_PEERS.inc()
        return peer

    def _forget(self, peer: StagePeer) -> None:
        self.ended_sessions.add(peer.session_id, peer.ended_why)
        if self.peers.get(peer.user_id) is peer:
            del self.peers[peer.user_id]
            self.mixer.remove_input(peer.user_id)
            self.encoding.forget(peer.user_id)
        STAGE_PEERS.dec()

    async def watch(self, offer_sdp: str, *, user_id: int | None) -> ProgramViewer:
        """Open a WHEP viewer of the program mix (raises UnusableOffer). A person may watch
        from several devices; the caller enforces any cap."""
        viewer = ProgramViewer(
            user_id=user_id, ice_servers=self._ice_servers, on_closed=self._forget_viewer
        )
        await viewer.answer(offer_sdp)
        self.viewers[viewer.session_id] = viewer
        WHEP_VIEWERS.inc()
        return viewer

    def _forget_viewer(self, viewer: ProgramViewer) -> None:
        self.ended_sessions.add(viewer.session_id, viewer.ended_why)
        if self.viewers.get(viewer.session_id) is viewer:
            del self.viewers[viewer.session_id]
            WHEP_VIEWERS.dec()

    async def hang_up_viewer(self, session_id: str) -> bool:
        viewer = self.viewers.get(session_id)
        if viewer is None:
            return False
        await viewer.close()
        return True

    async def hang_up_viewers_of(self, user_id: int, *, why: str | None = None) -> int:
        """Close every WHEP session of a person here; returns how many there were."""
        theirs = [v for v in self.viewers.values() if v.user_id == user_id]
        for viewer in theirs:
            await viewer.close(why=why)
        return len(theirs)

    async def _close_all(self, *, why: str) -> None:
        for peer in list(self.peers.values()):
            await peer.close(why=why)
        for viewer in list(self.viewers.values()):
            await viewer.close(why=why)

    def set_muted(self, user_id: int, muted: bool) -> None:
        self._muted[user_id] = muted
        self.mixer.set_muted(user_id, muted)

    def session(self, user_id: int, session_id: str) -> StagePeer | None:
        """A person's speaking connection, if ``session_id`` is the one they hold now."""
        peer = self.peers.get(user_id)
        return peer if peer is not None and peer.session_id == session_id else None

    async def hang_up(
        self, user_id: int, session_id: str | None = None, *, why: str | None = None
    ) -> bool:
        peer = self.peers.get(user_id)
        if peer is None or (session_id is not None and peer.session_id != session_id):
            return False
        await peer.close(why=why)
        return True

    def stop(self) -> None:
        """Stop the clock and close the stream (ENDLIST) at once; peers go with ``end``."""
        self.ended = True
        if self._clock is not None:
            self._clock.cancel()
        if not self.stream.ended:
            self.stream.end()

    async def halt(self) -> None:
        """Stop here without ending the stream (no ENDLIST): another node runs it now."""
        self.ended = True
        if self._clock is not None:
            self._clock.cancel()
        await self._close_all(why="the space's media moved to another node: offer again")

    async def end(self) -> None:
        """Stop, then hang up on every speaker and viewer."""
        self.stop()
        await self._close_all(why="the space ended")
