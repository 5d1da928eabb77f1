"""The stage peer's tuning of aiortc holds with the installed aiortc."""

from __future__ import annotations

from aiortc import RTCPeerConnection

from salon.media.peer import JITTER_PACKETS, _shorten_jitter_buffer


async def test_the_audio_jitter_buffer_is_shortened() -> None:
    pc = RTCPeerConnection()
    try:
        receiver = pc.addTransceiver("audio").receiver
        _shorten_jitter_buffer(receiver)
        buffer = receiver._RTCRtpReceiver__jitter_buffer  # type: ignore[attr-defined]
        assert buffer._prefetch == JITTER_PACKETS
    finally:
        await pc.close()
