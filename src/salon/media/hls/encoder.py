"""AAC-LC encoding of the program mix, one 1024-sample access unit at a time.

LL-HLS parts must hold a whole number of AAC frames, so the packager needs each access unit
on its own with an exact timestamp; PyAV (FFmpeg's native ``aac`` encoder) does the encoding.

Timeline. FFmpeg's AAC encoder primes its MDCT with one frame (1024 samples) of look-back:
the first access unit it emits decodes to near-silence and every input sample comes out
``priming`` samples later. We keep that frame instead of dropping it (a decoder starting
without it would click on the first real frame) and number access units on a *stream
timeline* that starts at 0 with it: stream sample ``t`` plays input sample ``t - priming``.
For a live space that is a constant 21 ms of extra latency, which nobody hears.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import numpy as np

from salon.media.pcm import SAMPLE_RATE, Pcm

AAC_FRAME_SAMPLES = 1024
#: What FFmpeg's native AAC encoder reports as its initial padding; measured again from the
#: first packet, this is only the answer before one has come out.
DEFAULT_PRIMING = 1024
#: bench/quality.py: FFmpeg's AAC at 64 kbit/s scored PESQ-WB 3.2 on speech; 96 kbit/s with the
#: fast coder scored 4.4. 96 kbit/s is still small next to what any listener downloads.
DEFAULT_BIT_RATE = 96_000

_TIME_BASE = Fraction(1, SAMPLE_RATE)
_INT16_SCALE = 32768.0


@dataclass(frozen=True, slots=True)
class AacFrame:
    """One raw AAC access unit (no ADTS header) and where it starts on the stream timeline."""

    data: bytes
    pts: int  # in samples at SAMPLE_RATE; the first access unit is at 0
    duration: int = AAC_FRAME_SAMPLES


class AacEncoder:
    """Mono AAC-LC at 48 kHz, taking Salon PCM of any length.

    Samples that do not fill a whole 1024-sample frame wait for the next call; ``flush`` pads
    them with silence and drains the encoder, after which the encoder is spent.
    """

    def __init__(self, bit_rate: int = DEFAULT_BIT_RATE) -> None:
        codec = av.CodecContext.create("aac", "w")
        codec.sample_rate = SAMPLE_RATE
        codec.layout = "mono"
        codec.format = "fltp"  # the native encoder's only sample format
        codec.bit_rate = bit_rate
        codec.time_base = _TIME_BASE
        # The default "twoloop" coder scores worse on speech and costs more CPU.
        codec.options = {"aac_coder": "fast"}
        codec.open()
        if codec.frame_size != AAC_FRAME_SAMPLES:
            raise RuntimeError(f"AAC encoder frame size is {codec.frame_size}, not 1024")
        self._codec = codec
        self._pending = np.zeros(0, dtype=np.int16)
        self._input_pts = 0
        self._first_pts: int | None = None
        self._next_pts = 0
        self._flushed = False

    @property
    def audio_specific_config(self) -> bytes:
        """The MPEG-4 AudioSpecificConfig (``11 88 ...`` for AAC-LC 48 kHz mono) for esds."""
        extradata = self._codec.extradata
        if not extradata:
            raise RuntimeError("the AAC encoder produced no AudioSpecificConfig")
        return bytes(extradata)

    @property
    def priming(self) -> int:
        """How many samples the stream timeline runs ahead of the input (see module doc)."""
        return DEFAULT_PRIMING if self._first_pts is None else -self._first_pts

    @property
    def buffered(self) -> int:
        """Input samples waiting for a whole frame."""
        return len(self._pending)

    def encode(self, pcm: Pcm) -> list[AacFrame]:
        """Encode as many whole frames as the buffered input allows."""
        if self._flushed:
            raise RuntimeError("the AAC encoder was flushed and cannot take more audio")
        if pcm.ndim != 1 or pcm.dtype != np.int16:
            raise ValueError("PCM must be a 1-D int16 array")
        pending = np.concatenate((self._pending, pcm)) if len(self._pending) else pcm
        whole = len(pending) - len(pending) % AAC_FRAME_SAMPLES
        frames: list[AacFrame] = []
        for start in range(0, whole, AAC_FRAME_SAMPLES):
            frames += self._encode_frame(pending[start : start + AAC_FRAME_SAMPLES])
        self._pending = pending[whole:].copy()
        return frames

    def flush(self) -> list[AacFrame]:
        """Pad the remainder to a whole frame with silence and drain the encoder's delay."""
        if self._flushed:
            return []
        frames: list[AacFrame] = []
        if len(self._pending):
            padded = np.zeros(AAC_FRAME_SAMPLES, dtype=np.int16)
            padded[: len(self._pending)] = self._pending
            frames += self._encode_frame(padded)
            self._pending = np.zeros(0, dtype=np.int16)
        self._flushed = True
        frames += self._collect(self._codec.encode(None))
        return frames

    def _encode_frame(self, samples: Pcm) -> list[AacFrame]:
        planar = (samples.astype(np.float32) / _INT16_SCALE).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.time_base = _TIME_BASE
        frame.pts = self._input_pts
        self._input_pts += AAC_FRAME_SAMPLES
        return self._collect(self._codec.encode(frame))

    def _collect(self, packets: list[av.Packet[Any]]) -> list[AacFrame]:
        frames: list[AacFrame] = []
        for packet in packets:
            if packet.pts is None:
                raise RuntimeError("the AAC encoder emitted a packet without a timestamp")
            if self._first_pts is None:
                self._first_pts = packet.pts
            pts = packet.pts - self._first_pts
            if pts != self._next_pts:
                # Every access unit is 1024 samples, so any hole is an encoder surprise that
                # would put a gap in every listener's audio: fail loudly instead.
                raise RuntimeError(f"AAC packet at {pts}, expected {self._next_pts}")
            self._next_pts = pts + AAC_FRAME_SAMPLES
            frames.append(AacFrame(bytes(packet), pts))
        return frames
