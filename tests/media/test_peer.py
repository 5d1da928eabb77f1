"""The stage peer's tuning of aiortc holds with the installed aiortc."""

from __future__ import annotations

from aiortc import RTCPeerConnection

from salon.media.hls.stream import LiveStream
from salon.media.peer import StagePeer
from salon.media.room import Room


async def test_the_microphone_is_decoded_inline_by_salon() -> None:
    peer = StagePeer(user_id=7, ice_servers=[], on_audio=lambda *_: None, on_closed=lambda _: None)
    client = RTCPeerConnection()
    try:
        client.addTransceiver("audio", direction="sendrecv")
        await client.setLocalDescription(await client.createOffer())
        await peer.answer(client.localDescription.sdp)
        receiver = peer._pc.getTransceivers()[0].receiver
        buffer = receiver._RTCRtpReceiver__jitter_buffer  # type: ignore[attr-defined]
        assert buffer.sink is peer.inbound
    finally:
        await peer.close()
        await client.close()


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
