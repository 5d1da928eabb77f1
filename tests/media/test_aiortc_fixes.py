"""The pinned aiortc adjustments are in place (the GStreamer interop tests show what they fix)."""

from __future__ import annotations

import pytest
from aiortc import RTCPeerConnection, RTCRtpCodecParameters
from aiortc.rtcdtlstransport import SRTP_AES128_CM_SHA1_80, RTCCertificate
from aiortc.rtp import RtpPacket
from OpenSSL import SSL

from salon.media import aiortc_fixes, session  # noqa: F401  (importing it applies them)


def _ciphers_offered() -> list[str]:
    context = RTCCertificate.generateCertificate()._create_ssl_context(
        srtp_profiles=[SRTP_AES128_CM_SHA1_80]
    )
    names: list[str] = SSL.Connection(context).get_cipher_list()
    return names


def test_a_dtls_client_offers_rsa_suites_too() -> None:
    offered = _ciphers_offered()
    assert "ECDHE-RSA-AES128-GCM-SHA256" in offered
    assert "ECDHE-ECDSA-AES128-GCM-SHA256" in offered
    # Forward secrecy only, as before (the TLS_ names are TLS 1.3 suites, unused by DTLS 1.2).
    assert all(name.startswith(("ECDHE-", "TLS_")) for name in offered)


def test_applying_twice_changes_nothing() -> None:
    aiortc_fixes.apply()
    aiortc_fixes.apply()
    assert _ciphers_offered().count("ECDHE-RSA-AES128-GCM-SHA256") == 1


class _Sink:
    def __init__(self) -> None:
        self.packets: list[RtpPacket] = []

    def receive(self, packet: RtpPacket) -> None:
        self.packets.append(packet)


async def test_inline_decoding_gets_every_audio_packet_aiortc_receives() -> None:
    pc = RTCPeerConnection()
    try:
        receiver = pc.addTransceiver("audio").receiver
        sink = _Sink()
        aiortc_fixes.decode_inline(receiver, sink)
        # What receive() would register from the negotiated parameters:
        receiver._RTCRtpReceiver__codecs[111] = RTCRtpCodecParameters(  # type: ignore[attr-defined]
            mimeType="audio/opus", clockRate=48000, channels=2, payloadType=111
        )
        for sequence in (5, 6, 8):  # 7 is lost: no frame waits for it
            packet = RtpPacket(payload_type=111, sequence_number=sequence, timestamp=960 * sequence)
            packet.payload = bytes([sequence])
            await receiver._handle_rtp_packet(packet, arrival_time_ms=0)
        assert [p.sequence_number for p in sink.packets] == [5, 6, 8]
        assert [p.payload for p in sink.packets] == [b"\x05", b"\x06", b"\x08"]
    finally:
        await pc.close()


async def test_inline_decoding_refuses_an_aiortc_without_the_jitter_buffer() -> None:
    with pytest.raises(RuntimeError, match="jitter_buffer"):
        aiortc_fixes.decode_inline(object(), _Sink())  # type: ignore[arg-type]
