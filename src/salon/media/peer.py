"""One stage member's WebRTC connection: their microphone up, their mix-minus down."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TypeAlias

import av
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from salon.media import aiortc_fixes
from salon.media.inbound import InboundAudio
from salon.media.offer import UnusableOffer, check_offer, opus_only
from salon.media.pcm import SAMPLE_RATE, Pcm
from salon.media.sdpfrag import Fragment
from salon.media.trickle import add_fragment, failure_reason, ice_ufrag
from salon.metrics import OUTBOUND_DROPPED

log = logging.getLogger(__name__)

aiortc_fixes.apply()

if TYPE_CHECKING:
    #: An Opus packet for aiortc's sender (no container stream behind it).
    OpusPacket: TypeAlias = av.Packet[Any]

#: Mix packets waiting to be sent to one speaker; beyond this the oldest are dropped so the
#: delay a speaker hears can never build up.
OUTBOUND_FRAMES = 3

TIME_BASE = Fraction(1, SAMPLE_RATE)


class PacketTrack(MediaStreamTrack):
    """Opus packets already encoded by the room, paced by the mixer clock.

    ``recv`` yields ``av.Packet``s, so aiortc's sender only packs them into RTP: no encoder
    run in an executor per frame, and no audio level computed in Python per frame.
    """

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._packets: asyncio.Queue[OpusPacket] = asyncio.Queue(maxsize=OUTBOUND_FRAMES)

    def feed(self, packet: OpusPacket) -> None:
        """Queue one 20 ms packet (``pts`` in samples at 48 kHz, the room's clock)."""
        if self._packets.full():
            self._packets.get_nowait()
            OUTBOUND_DROPPED.inc()
        self._packets.put_nowait(packet)

    async def recv(self) -> OpusPacket:
        if self.readyState != "live":
            raise MediaStreamError
        return await self._packets.get()


def opus_packet(payload: bytes, pts: int) -> OpusPacket:
    """An Opus payload as the ``av.Packet`` aiortc's sender packs (RTP timestamp from pts)."""
    packet = av.Packet(payload)
    packet.pts = pts
    packet.time_base = TIME_BASE
    return packet


class MixMinusTrack(PacketTrack):
    """The audio a speaker hears: the program, or their own mix-minus while they speak."""


class StagePeer:
    """A server-side RTCPeerConnection for one speaker (aiortc).

    ``on_audio(user_id, pcm)`` receives their decoded microphone as 48 kHz mono, called on the
    event loop as each packet arrives (inbound.py); ``on_closed``
    is called once when the connection fails or is closed, from either side.
    """

    def __init__(
        self,
        *,
        user_id: int,
        ice_servers: list[dict[str, Any]],
        on_audio: Callable[[int, Pcm], None],
        on_closed: Callable[[StagePeer], None],
    ) -> None:
        self.user_id = user_id
        self.session_id = secrets.token_urlsafe(12)
        self.outbound = MixMinusTrack()
        self.answer_sdp = ""
        #: The ICE username fragment of the offer: a PATCH with another one is an ICE restart.
        self.remote_ufrag: str | None = None
        #: Why the session ended, once it has (a publisher asking about it later is told).
        self.ended_why = "the session was hung up"
        self.inbound = InboundAudio(lambda pcm: on_audio(user_id, pcm))
        self._on_closed = on_closed
        self._closed = False
        config = RTCConfiguration([RTCIceServer(**server) for server in ice_servers])
        self._pc = RTCPeerConnection(configuration=config)
        self._pc.on("connectionstatechange", self._on_state)

    @property
    def state(self) -> str:
        return str(self._pc.connectionState)

    async def answer(self, offer_sdp: str) -> str:
        """Accept a WHIP offer; returns the SDP answer with every ICE candidate in it.

        Raises UnusableOffer when the offer cannot be parsed or carries no Opus audio.
        """
        try:
            check_offer(offer_sdp)
        except UnusableOffer:
            await self._pc.close()
            raise
        self.remote_ufrag = ice_ufrag(offer_sdp)
        try:
            # Opus only, whatever else the offer lists: the answer can name nothing else.
            offer = RTCSessionDescription(sdp=opus_only(offer_sdp), type="offer")
            await self._pc.setRemoteDescription(offer)
        except Exception as exc:  # aiortc raises many kinds on malformed SDP
            await self._pc.close()
            raise UnusableOffer(f"the SDP offer could not be used ({exc})") from exc
        audio = [t for t in self._pc.getTransceivers() if t.kind == "audio"]
        if not audio:
            await self._pc.close()
            raise UnusableOffer("the SDP offer has no audio")
        aiortc_fixes.decode_inline(audio[0].receiver, self.inbound)
        audio[0].sender.replaceTrack(self.outbound)
        audio[0].direction = "sendrecv"
        await self._pc.setLocalDescription(await self._pc.createAnswer())
        self.answer_sdp = str(self._pc.localDescription.sdp)
        return self.answer_sdp

    async def trickle(self, fragment: Fragment) -> None:
        """Add candidates a client trickled (PATCH); IceRestart for new ICE credentials."""
        await add_fragment(self._pc, fragment, remote_ufrag=self.remote_ufrag)

    async def _on_state(self) -> None:
        if self._pc.connectionState == "failed":
            await self.close(why=f"the connection failed: {failure_reason(self._pc)}")
        elif self._pc.connectionState == "closed":
            await self.close()

    async def close(self, *, why: str | None = None) -> None:
        if self._closed:
            return
        self._closed = True
        if why is not None:
            self.ended_why = why
        self.outbound.stop()
        await self._pc.close()
        self._on_closed(self)
