"""What a WHIP (stage) and a WHEP (listening) session share: one aiortc RTCPeerConnection
answering a client's offer, ICE candidates trickled into it, and why it ended."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import Any

from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
)

from salon.media import aiortc_fixes
from salon.media.offer import UnusableOffer, check_offer, opus_only
from salon.media.sdpfrag import Fragment
from salon.media.trickle import add_fragment, failure_reason, ice_ufrag

aiortc_fixes.apply()


class WebRtcSession:
    """A server-side RTCPeerConnection for one client's session (aiortc).

    Subclasses take the offer with ``_audio_of`` (checked, narrowed to Opus), set up its
    audio, then ``_answer``; they stop what they send in ``_stop`` and are told in ``_ended``
    once the session is over, whichever side ended it.
    """

    def __init__(self, ice_servers: list[dict[str, Any]]) -> None:
        self.session_id = secrets.token_urlsafe(12)
        self.answer_sdp = ""
        #: The ICE username fragment of the offer: a PATCH with another one is an ICE restart.
        self.remote_ufrag: str | None = None
        #: Why the session ended, once it has (a client asking about it later is told).
        self.ended_why = "the session was hung up"
        #: Set once the session is closed and its ``_ended`` has run, whoever closed it.
        self.closed = asyncio.Event()
        self._closing = False
        config = RTCConfiguration([RTCIceServer(**server) for server in ice_servers])
        self._pc = RTCPeerConnection(configuration=config)
        self._pc.on("connectionstatechange", self._on_state)

    @property
    def state(self) -> str:
        return str(self._pc.connectionState)

    @property
    def ending(self) -> bool:
        """Being closed (or closed): the session has ended, ``ended_why`` says why."""
        return self._closing

    async def _audio_of(
        self, offer_sdp: str, check: Callable[[str], None] = check_offer
    ) -> RTCRtpTransceiver:
        """Take the offer: ``check`` it, set it narrowed to Opus (so the answer names nothing
        else), and return its audio transceiver. UnusableOffer, the connection closed, when
        it cannot be used."""
        try:
            check(offer_sdp)
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
        if not audio:
            await self._pc.close()
            raise UnusableOffer("the SDP offer has no audio")
        return audio[0]

    async def _answer(self) -> str:
        """The SDP answer, with every ICE candidate in it."""
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
        self._stop()
        await self._pc.close()
        self._ended()
        self.closed.set()

    def _stop(self) -> None:
        """Stop what this session sends."""

    def _ended(self) -> None:
        """The session is over (called once)."""
