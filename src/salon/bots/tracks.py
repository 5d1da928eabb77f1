"""Audio sources for bots: a tone, or a sound file, played in real time as a WebRTC track."""

from __future__ import annotations

import asyncio
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from salon.media.opus import OpusEncoder
from salon.media.pcm import FRAME_SAMPLES, SAMPLE_RATE, Pcm


def tone(frequency: float, seconds: float, *, level: float = 0.3) -> Pcm:
    """A sine tone at ``level`` of full scale."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (np.sin(2 * np.pi * frequency * t) * level * 32767).astype(np.int16)


def read_audio(path: Path) -> Pcm:
    """Decode any file FFmpeg reads (WAV, MP3, ...) to 48 kHz mono PCM."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    chunks: list[Pcm] = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1).astype(np.int16))
    for out in resampler.resample(None):
        chunks.append(out.to_ndarray().reshape(-1).astype(np.int16))
    if not chunks:
        raise ValueError(f"{path} has no audio")
    return np.concatenate(chunks)


#: Frames whose send time a track remembers (10 minutes of 20 ms frames).
SENT_KEPT = 30_000


class PcmTrack(MediaStreamTrack):
    """Plays PCM (looping) in 20 ms frames, paced by the wall clock like a microphone."""

    kind = "audio"

    def __init__(self, pcm: Pcm, *, loop: bool = True) -> None:
        super().__init__()
        padded = len(pcm) + (-len(pcm)) % FRAME_SAMPLES
        self._pcm = np.zeros(padded, dtype=np.int16)
        self._pcm[: len(pcm)] = pcm
        self._repeat = loop
        self._offset = 0
        self._pts = 0
        self._started: float | None = None
        #: Wall-clock time (time.time) at which each frame was handed to WebRTC, by pts: the
        #: last ``SENT_KEPT`` frames (ten minutes), so a bot speaking for days stays small.
        self.sent_at: dict[int, float] = {}

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._started is None:
            self._started = time.monotonic()
        due = self._started + self._pts / SAMPLE_RATE
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if self._offset >= len(self._pcm):
            if not self._repeat:
                self.stop()
                raise MediaStreamError
            self._offset = 0
        chunk = self._pcm[self._offset : self._offset + FRAME_SAMPLES]
        self._offset += FRAME_SAMPLES
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.time_base = Fraction(1, SAMPLE_RATE)
        frame.pts = self._pts
        self.sent_at[self._pts] = time.time()
        if len(self.sent_at) > SENT_KEPT:
            del self.sent_at[next(iter(self.sent_at))]  # the oldest (insertion order)
        self._pts += FRAME_SAMPLES
        return frame


#: What browsers' WebRTC sends for a voice (Opus with in-band FEC, voice hint), at a rate a
#: page can ask for (``maxaveragebitrate``); aiortc's own encoder sends 96 kbit/s CELT, no FEC.
SPEECH_OPUS = {"bitrate": 64_000, "fec": True, "expected_loss_percent": 5, "complexity": 10}


class OpusTrack(MediaStreamTrack):
    """A ``PcmTrack`` encoded here by libopus (``SPEECH_OPUS`` unless told), yielding Opus
    packets as ``av.Packet``s: aiortc's sender only packs them into RTP, as a browser's
    encoder output would be."""

    kind = "audio"

    def __init__(self, pcm: Pcm, *, loop: bool = True, encoder: OpusEncoder | None = None):
        super().__init__()
        self.source = PcmTrack(pcm, loop=loop)
        self.encoder = encoder or OpusEncoder(**SPEECH_OPUS)  # type: ignore[arg-type]

    @property
    def sent_at(self) -> dict[int, float]:
        return self.source.sent_at

    async def recv(self) -> av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        try:
            frame = await self.source.recv()
        except MediaStreamError:
            self.stop()
            raise
        pcm = np.asarray(frame.to_ndarray(), dtype=np.int16).reshape(-1)
        packet = av.Packet(self.encoder.encode(pcm))
        packet.pts = frame.pts
        packet.time_base = Fraction(1, SAMPLE_RATE)
        return packet

    def stop(self) -> None:
        self.source.stop()
        super().stop()
