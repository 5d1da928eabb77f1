"""On a real stage (aiortc clients): a quiet member gets the shared program packets, a
member making sound gets their own mix-minus, and does not hear themself."""

from __future__ import annotations

import asyncio

import av
import numpy as np
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription

from salon.bots.analysis import tone_strength
from salon.bots.tracks import PcmTrack, tone
from salon.media.hls.stream import LiveStream
from salon.media.mixer import downmix_to_mono
from salon.media.pcm import Pcm
from salon.media.room import Room


async def _join(
    room: Room, user_id: int, track: PcmTrack
) -> tuple[RTCPeerConnection, MediaStreamTrack]:
    client = RTCPeerConnection()
    heard: asyncio.Queue[MediaStreamTrack] = asyncio.Queue()
    client.on("track", heard.put_nowait)
    client.addTransceiver(track, direction="sendrecv")
    await client.setLocalDescription(await client.createOffer())
    peer = await room.connect(user_id, client.localDescription.sdp, muted=False)
    await client.setRemoteDescription(RTCSessionDescription(peer.answer_sdp, "answer"))
    return client, await heard.get()


async def _record(track: MediaStreamTrack, samples: int) -> Pcm:
    chunks: list[Pcm] = []
    while sum(len(c) for c in chunks) < samples:
        frame = await track.recv()
        assert isinstance(frame, av.AudioFrame)
        decoded = frame.to_ndarray().astype(np.int16)
        chunks.append(downmix_to_mono(decoded, len(frame.layout.channels)))
    return np.concatenate(chunks)


async def test_the_quiet_hear_the_program_and_a_talker_their_mix_minus() -> None:
    room = Room("s", stream=LiveStream(), ice_servers=[], on_speaking=lambda *_: None)
    room.start()
    clients = []
    try:
        talker, talker_hears = await _join(room, 1, PcmTrack(tone(440.0, 2.0)))
        quiet, quiet_hears = await _join(room, 2, PcmTrack(np.zeros(48_000, np.int16)))
        clients = [talker, quiet]
        async with asyncio.timeout(20):
            heard_by_quiet, heard_by_talker = await asyncio.gather(
                _record(quiet_hears, 48_000 * 2), _record(talker_hears, 48_000 * 2)
            )
        assert room.encoding.on_own_stream(1)
        assert not room.encoding.on_own_stream(2)
        assert tone_strength(heard_by_quiet[-48_000:], 440.0) > 0.5
        assert np.abs(heard_by_talker[-48_000:]).max() < 100  # not their own tone
    finally:
        await room.end()
        for client in clients:
            await client.close()
