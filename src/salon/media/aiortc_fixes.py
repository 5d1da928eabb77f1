"""Narrow, tested adjustments of aiortc (pinned in pyproject.toml; tests: test_aiortc_fixes.py).

aiortc 1.16 offers only ECDHE-ECDSA cipher suites in DTLS. That is enough while it is the DTLS
server (its own certificate is ECDSA), but when Salon answers a WHIP offer it answers
``a=setup:active`` and so is the DTLS *client*: a publisher whose certificate is RSA
(GStreamer's ``webrtcbin``, many hardware encoders) then finds no shared cipher and the
handshake dies after ICE succeeded. The client list here adds the ECDHE-RSA suites with the
same AEAD ciphers, as browsers and libwebrtc offer; as a server nothing changes (the RSA
suites need an RSA certificate, which Salon never has).

``decode_inline`` takes over a receiver's audio after depacketizing: aiortc's audio jitter
buffer holds packets for a decoder thread that hands frames back to the event loop, which
costs a thread hop per frame; Salon decodes each packet on arrival instead (inbound.py).
"""

from __future__ import annotations

from typing import Any, Protocol

import aiortc
from aiortc.rtcdtlstransport import RTCCertificate
from aiortc.rtcrtpreceiver import RTCRtpReceiver
from aiortc.rtp import RtpPacket

#: The aiortc release these adjustments were written against and are tested with.
AIORTC_VERSION = "1.16.0"

CIPHERS = b":".join(
    [
        b"ECDHE-ECDSA-AES128-GCM-SHA256",
        b"ECDHE-ECDSA-CHACHA20-POLY1305",
        b"ECDHE-ECDSA-AES256-GCM-SHA384",
        b"ECDHE-RSA-AES128-GCM-SHA256",
        b"ECDHE-RSA-CHACHA20-POLY1305",
        b"ECDHE-RSA-AES256-GCM-SHA384",
        b"ECDHE-ECDSA-AES128-SHA",
        b"ECDHE-ECDSA-AES256-SHA",
        b"ECDHE-RSA-AES128-SHA",
        b"ECDHE-RSA-AES256-SHA",
    ]
)

_applied = False


def apply() -> None:
    """Install the adjustments once; refuse to run on an aiortc they were not written for."""
    global _applied
    if _applied:
        return
    if aiortc.__version__ != AIORTC_VERSION:
        raise RuntimeError(
            f"Salon's media adjusts aiortc {AIORTC_VERSION}, but {aiortc.__version__} is "
            "installed: reinstall with `make install`"
        )
    original = RTCCertificate._create_ssl_context

    def create_ssl_context(self: RTCCertificate, *args: Any, **kwargs: Any) -> Any:
        context = original(self, *args, **kwargs)
        context.set_cipher_list(CIPHERS)
        return context

    RTCCertificate._create_ssl_context = create_ssl_context  # type: ignore[method-assign]
    _applied = True


class PacketSink(Protocol):
    def receive(self, packet: RtpPacket) -> None: ...


class _InlineDecoding:
    """Stands where aiortc keeps a receiver's jitter buffer (``add(packet) -> (pli, frame)``)
    and gives every packet to the sink at once; aiortc's decoder thread then never gets
    work, sits idle and still ends with the receiver."""

    __slots__ = ("sink",)

    def __init__(self, sink: PacketSink) -> None:
        self.sink = sink

    def add(self, packet: RtpPacket) -> tuple[bool, None]:
        self.sink.receive(packet)
        return False, None


_JITTER_BUFFER = "_RTCRtpReceiver__jitter_buffer"


def decode_inline(receiver: RTCRtpReceiver, sink: PacketSink) -> None:
    """Give an audio receiver's RTP packets (in arrival order) to ``sink`` instead of aiortc's
    jitter buffer and decoder thread. Call before the connection starts receiving."""
    if not hasattr(receiver, _JITTER_BUFFER):
        raise RuntimeError(f"aiortc {aiortc.__version__} keeps no {_JITTER_BUFFER}")
    setattr(receiver, _JITTER_BUFFER, _InlineDecoding(sink))
