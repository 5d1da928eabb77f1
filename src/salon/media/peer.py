"""One stage member's WebRTC connection: their microphone up, their mix-minus down."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TypeAlias

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from salon.media import aiortc_fixes
from salon.media.inbound import InboundAudio
from salon.media.pcm import SAMPLE_RATE, Pcm
from salon.media.session import WebRtcSession
from salon.metrics import OUTBOUND_DROPPED

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


class StagePeer(WebRtcSession):
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
        super().__init__(ice_servers)
        self.user_id = user_id
        self.outbound = MixMinusTrack()
        self.inbound = InboundAudio(lambda pcm: on_audio(user_id, pcm))
        self._on_closed = on_closed

    async def answer(self, offer_sdp: str) -> str:
        """Accept a WHIP offer; returns the SDP answer with every ICE candidate in it.

        Raises UnusableOffer when the offer cannot be parsed or carries no Opus audio.
        """
        audio = await self._audio_of(offer_sdp)
        aiortc_fixes.decode_inline(audio.receiver, self.inbound)
        audio.sender.replaceTrack(self.outbound)
        audio.direction = "sendrecv"
        return await self._answer()

    def _stop(self) -> None:
        self.outbound.stop()

    def _ended(self) -> None:
        self._on_closed(self)
