"""WHEP viewers: the program mix over WebRTC (aiortc clients), the cap, hang-ups."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import av
import numpy as np
import pytest
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription

from salon.bots.analysis import tone_strength
from salon.bots.tracks import PcmTrack, tone
from salon.config import Settings
from salon.events.memory import MemoryBus
from salon.events.types import ParticipantLeft
from salon.media.engine import MediaEngine, WhepFull
from salon.media.hls.stream import LiveStream
from salon.media.mixer import downmix_to_mono
from salon.media.offer import UnusableOffer
from salon.media.pcm import Pcm
from salon.media.room import Room


async def _offer(pc: RTCPeerConnection, direction: str = "recvonly") -> str:
    pc.addTransceiver("audio", direction=direction)
    await pc.setLocalDescription(await pc.createOffer())
    return str(pc.localDescription.sdp)


async def _record(track: MediaStreamTrack, samples: int) -> Pcm:
    chunks: list[Pcm] = []
    while sum(len(c) for c in chunks) < samples:
        frame = await track.recv()
        assert isinstance(frame, av.AudioFrame)
        decoded = frame.to_ndarray().astype(np.int16)  # s16, as aiortc decodes
        chunks.append(downmix_to_mono(decoded, len(frame.layout.channels)))
    return np.concatenate(chunks)


async def test_a_viewer_hears_the_program_mix() -> None:
    room = Room("s", stream=LiveStream(), ice_servers=[], on_speaking=lambda *_: None)
    room.start()
    speaker, watcher = RTCPeerConnection(), RTCPeerConnection()
    tracks: asyncio.Queue[MediaStreamTrack] = asyncio.Queue()
    watcher.on("track", tracks.put_nowait)
    try:
        speaker.addTransceiver(PcmTrack(tone(440.0, 2.0)), direction="sendrecv")
        await speaker.setLocalDescription(await speaker.createOffer())
        peer = await room.connect(1, speaker.localDescription.sdp, muted=False)
        await speaker.setRemoteDescription(RTCSessionDescription(peer.answer_sdp, "answer"))
        viewer = await room.watch(await _offer(watcher), user_id=None)
        assert room.viewers == {viewer.session_id: viewer}
        await watcher.setRemoteDescription(RTCSessionDescription(viewer.answer_sdp, "answer"))
        track = await tracks.get()
        async with asyncio.timeout(20):
            heard = await _record(track, 48_000 * 2)
        assert tone_strength(heard[-48_000:], 440.0) > 0.5
    finally:
        await room.end()
        await speaker.close()
        await watcher.close()
    assert room.viewers == {}


async def test_an_offer_that_does_not_receive_audio_is_refused() -> None:
    room = Room("s", stream=LiveStream(), ice_servers=[], on_speaking=lambda *_: None)
    client = RTCPeerConnection()
    try:
        with pytest.raises(UnusableOffer, match="receive"):
            await room.watch(await _offer(client, "sendonly"), user_id=3)
        assert room.viewers == {}
    finally:
        await client.close()


@pytest.fixture
async def engine(tmp_path: Path) -> MediaEngine:
    engine = MediaEngine(Settings(whep_max_viewers=2, recordings_dir=tmp_path), MemoryBus())
    engine.open_room("s", recording=False)
    return engine


async def test_the_node_cap_raises_whep_full(engine: MediaEngine) -> None:
    clients = [RTCPeerConnection() for _ in range(3)]
    try:
        for client in clients[:2]:
            await engine.watch("s", await _offer(client), user_id=None)
        assert engine.whep_viewers() == 2
        with pytest.raises(WhepFull):
            await engine.watch("s", await _offer(clients[2]), user_id=None)
    finally:
        await engine.close()
        for client in clients:
            await client.close()


async def test_whep_off_refuses_every_viewer(tmp_path: Path) -> None:
    engine = MediaEngine(Settings(whep_max_viewers=0, recordings_dir=tmp_path), MemoryBus())
    engine.open_room("s", recording=False)
    try:
        with pytest.raises(WhepFull, match="off"):
            await engine.watch("s", "v=0\r\n", user_id=1)
    finally:
        await engine.close()


async def test_a_participant_who_leaves_is_hung_up_on(engine: MediaEngine) -> None:
    clients = [RTCPeerConnection() for _ in range(2)]
    try:
        leaving = await engine.watch("s", await _offer(clients[0]), user_id=5)
        staying = await engine.watch("s", await _offer(clients[1]), user_id=6)
        bus = engine._bus
        assert isinstance(bus, MemoryBus)
        bus.deliver(
            ParticipantLeft(space_id="s", at=datetime.now(UTC), user_id=5, reason="removed")
        )
        async with asyncio.timeout(5):
            await leaving.closed.wait()
        assert not staying.closed.is_set()
        assert engine.whep_viewers() == 1
    finally:
        await engine.close()
        for client in clients:
            await client.close()
