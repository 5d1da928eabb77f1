"""A WHEP viewer: the program mix down one WebRTC connection, nothing up.

Every viewer of a space gets the same Opus packets, the room's program encoded once per tick
(encoding.py); per connection there is only SRTP and the RTP header. The HTTP side (routes,
authorization, the viewer cap) lives in api/ and engine.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from salon.media.offer import UnusableOffer, audio_direction, check_offer
from salon.media.peer import PacketTrack
from salon.media.session import WebRtcSession

if TYPE_CHECKING:
    from salon.media.peer import OpusPacket


class ProgramViewer(WebRtcSession):
    """A server-side, send-only RTCPeerConnection carrying a space's program mix (aiortc).

    ``on_closed`` is called once when the connection fails or is closed, from either side.
    """

    def __init__(
        self,
        *,
        user_id: int | None,
        ice_servers: list[dict[str, Any]],
        on_closed: Callable[[ProgramViewer], None],
    ) -> None:
        super().__init__(ice_servers)
        self.user_id = user_id
        self.track = PacketTrack()
        self._on_closed = on_closed

    def feed(self, packet: OpusPacket) -> None:
        self.track.feed(packet)

    async def answer(self, offer_sdp: str) -> str:
        """Accept a WHEP offer (audio recvonly or sendrecv); returns the SDP answer with every
        ICE candidate in it. Raises UnusableOffer for an offer without Opus audio, without a
        DTLS fingerprint, or that will not receive audio."""
        audio = await self._audio_of(offer_sdp, _check_receiving)
        audio.sender.replaceTrack(self.track)
        audio.direction = "sendonly"
        return await self._answer()

    def _stop(self) -> None:
        self.track.stop()

    def _ended(self) -> None:
        self._on_closed(self)


def _check_receiving(offer_sdp: str) -> None:
    check_offer(offer_sdp)
    if audio_direction(offer_sdp) not in ("recvonly", "sendrecv"):
        raise UnusableOffer("the SDP offer's audio does not receive (recvonly/sendrecv)")
