"""A WHEP viewer: the program mix down one WebRTC connection, nothing up.

Every viewer of a space gets the same Opus packets, the room's program encoded once per tick
(encoding.py); per connection there is only SRTP and the RTP header. The HTTP side (routes,
authorization, the viewer cap) lives in api/ and engine.py.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription

from salon.media.offer import UnusableOffer, audio_direction, check_offer, opus_only
from salon.media.peer import PacketTrack
from salon.media.sdpfrag import Fragment
from salon.media.trickle import add_fragment, failure_reason, ice_ufrag

if TYPE_CHECKING:
    from salon.media.peer import OpusPacket

log = logging.getLogger(__name__)


class ProgramViewer:
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
        self.session_id = secrets.token_urlsafe(12)
        self.user_id = user_id
        self.answer_sdp = ""
        #: The ICE username fragment of the offer: a PATCH with another one is an ICE restart.
        self.remote_ufrag: str | None = None
        #: Why the session ended, once it has (a client asking about it later is told).
        self.ended_why = "the session was hung up"
        self.track = PacketTrack()
        self._on_closed = on_closed
        self._closing = False
        #: Set once the connection is closed and forgotten by its room, whoever closed it.
        self.closed = asyncio.Event()
        config = RTCConfiguration([RTCIceServer(**server) for server in ice_servers])
        self._pc = RTCPeerConnection(configuration=config)
        self._pc.on("connectionstatechange", self._on_state)

    @property
    def ending(self) -> bool:
        """Being closed (or closed): the session has ended, ``ended_why`` says why."""
        return self._closing

    @property
    def state(self) -> str:
        return str(self._pc.connectionState)

    def feed(self, packet: OpusPacket) -> None:
        self.track.feed(packet)

    async def answer(self, offer_sdp: str) -> str:
        """Accept a WHEP offer (audio recvonly or sendrecv); returns the SDP answer with every
        ICE candidate in it. Raises UnusableOffer for an offer without Opus audio, without a
        DTLS fingerprint, or that will not receive audio."""
        try:
            check_offer(offer_sdp)
            if audio_direction(offer_sdp) not in ("recvonly", "sendrecv"):
                raise UnusableOffer("the SDP offer's audio does not receive (recvonly/sendrecv)")
        except UnusableOffer:
            await self._pc.close()
            raise
        self.remote_ufrag = ice_ufrag(offer_sdp)
        try:
            offer = RTCSessionDescription(sdp=opus_only(offer_sdp), type="offer")
            await self._pc.setRemoteDescription(offer)
        except Exception as exc:  # aiortc raises many kinds on malformed SDP
            await self._pc.close()
            raise UnusableOffer(f"the SDP offer could not be used ({exc})") from exc
        audio = [t for t in self._pc.getTransceivers() if t.kind == "audio"]
        audio[0].sender.replaceTrack(self.track)
        audio[0].direction = "sendonly"
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
        if self._closing:
            return
        self._closing = True
        if why is not None:
            self.ended_why = why
        self.track.stop()
        await self._pc.close()
        self._on_closed(self)
        self.closed.set()
