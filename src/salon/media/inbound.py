"""A speaker's microphone, decoded as each RTP packet arrives: no thread, no resampler.

aiortc hands every audio frame to a decoder thread (PyAV, stereo) and back to the event loop
with ``run_coroutine_threadsafe``; a reader task then resamples stereo to mono. Here each
packet is decoded inline, mono, by libopus, and the PCM goes straight to the mixer, whose own
jitter buffer (``MAX_BUFFERED_FRAMES``) absorbs arrival jitter.

Nothing waits for late packets: a gap in sequence numbers is a loss. The last lost frame is
recovered from the in-band FEC of the packet that follows it (libopus conceals instead when
that packet carries none), earlier ones are concealed (PLC), and a gap longer than
``MAX_CONCEAL_SAMPLES`` is left as silence rather than a long synthetic tail. A packet that
arrives after its place was filled (reordered) is dropped: FEC has usually recovered it.

No asyncio and no I/O, so it is tested with plain calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from salon.media.opus import OpusDecoder
from salon.media.pcm import FRAME_SAMPLES, Pcm
from salon.metrics import INBOUND_LATE_PACKETS, INBOUND_RECOVERED, INBOUND_SILENCED_GAPS

#: The longest loss filled with concealed audio (60 ms); a longer gap is silence.
MAX_CONCEAL_SAMPLES = 3 * FRAME_SAMPLES

#: Opus frames are multiples of 2.5 ms; FEC and PLC are asked for whole ones.
_GRANULE = 120


_FEC = INBOUND_RECOVERED.labels(how="fec")
_PLC = INBOUND_RECOVERED.labels(how="plc")


class RtpAudio(Protocol):
    """What is used of an aiortc ``RtpPacket``."""

    sequence_number: int
    timestamp: int
    payload: bytes


class InboundAudio:
    """Decodes one speaker's Opus RTP packets in order of arrival into ``on_pcm(pcm)``."""

    def __init__(self, on_pcm: Callable[[Pcm], None]) -> None:
        self._on_pcm = on_pcm
        self._decoder = OpusDecoder()
        self._next_sequence: int | None = None
        self._next_timestamp = 0
        self.recovered = 0  # lost frames filled with FEC or PLC
        self.late = 0  # packets dropped for arriving after their place was filled

    def receive(self, packet: RtpAudio) -> None:
        if self._next_sequence is not None:
            ahead = (packet.sequence_number - self._next_sequence) & 0xFFFF
            if ahead >= 0x8000:
                self.late += 1
                INBOUND_LATE_PACKETS.inc()
                return
            if ahead:
                self._fill_gap(packet)
        pcm = self._decoder.decode(packet.payload)
        self._next_sequence = (packet.sequence_number + 1) & 0xFFFF
        self._next_timestamp = (packet.timestamp + len(pcm)) & 0xFFFFFFFF
        self._on_pcm(pcm)

    def _fill_gap(self, packet: RtpAudio) -> None:
        # The RTP timestamps say how much audio is missing, whatever the packets' duration.
        missing = (packet.timestamp - self._next_timestamp) & 0xFFFFFFFF
        if missing > MAX_CONCEAL_SAMPLES:
            INBOUND_SILENCED_GAPS.inc()
            return  # a long gap (or a timestamp jump): silence, and decode on from here
        missing -= missing % _GRANULE
        while missing > FRAME_SAMPLES:
            self._on_pcm(self._decoder.conceal(FRAME_SAMPLES))
            missing -= FRAME_SAMPLES
            self.recovered += 1
            _PLC.inc()
        if missing:
            self._on_pcm(self._decoder.decode_fec(packet.payload, missing))
            self.recovered += 1
            _FEC.inc()
