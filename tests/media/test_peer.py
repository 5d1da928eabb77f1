"""The stage peer's tuning of aiortc holds with the installed aiortc."""

from __future__ import annotations

from aiortc import RTCPeerConnection
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtp import RtpPacket

from salon.media.hls.stream import LiveStream
from salon.media.peer import JITTER_CAPACITY, JITTER_PACKETS, _shorten_jitter_buffer
from salon.media.room import Room


async def test_the_audio_jitter_buffer_is_shortened() -> None:
    pc = RTCPeerConnection()
    try:
        receiver = pc.addTransceiver("audio").receiver
        _shorten_jitter_buffer(receiver)
        buffer = receiver._RTCRtpReceiver__jitter_buffer  # type: ignore[attr-defined]
        assert buffer._prefetch == JITTER_PACKETS
        assert buffer.capacity == JITTER_CAPACITY
    finally:
        await pc.close()


def test_a_lost_packet_costs_a_moment_and_leaves_no_delay_behind() -> None:
    buffer = JitterBuffer(capacity=JITTER_CAPACITY, prefetch=JITTER_PACKETS)
    released: list[int | None] = []
    for sequence in range(40):
        if sequence == 10:
            continue  # lost
        packet = RtpPacket(payload_type=111, sequence_number=sequence, timestamp=sequence * 960)
        packet._data = b"opus"  # type: ignore[attr-defined]  # what the receiver sets
        _, frame = buffer.add(packet)
        released.append(None if frame is None else frame.timestamp // 960)
    # Nothing for at most 60 ms of packets after the loss (the first packet is only held) ...
    assert released.count(None) <= 1 + 3
    # ... and at most that much delay left behind for good (a 16-packet buffer left 280 ms).
    assert released[-1] is not None
    assert 39 - released[-1] <= 3


async def test_a_mute_heard_while_connecting_wins_over_the_older_database_value() -> None:
    room = Room("s", stream=LiveStream(), ice_servers=[], on_speaking=lambda *_: None)
    client = RTCPeerConnection()
    try:
        client.addTransceiver("audio", direction="sendrecv")
        await client.setLocalDescription(await client.createOffer())
        room.set_muted(7, True)  # the event arrives after admission read muted=False
        await room.connect(7, client.localDescription.sdp, muted=False)
        assert room.mixer.is_muted(7)
        room.set_muted(7, False)
        assert not room.mixer.is_muted(7)
    finally:
        await room.end()
        await client.close()
