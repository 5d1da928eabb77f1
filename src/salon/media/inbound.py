"""A speaker's microphone, decoded as each RTP packet arrives: no thread, no resampler.

aiortc hands every audio frame to a decoder thread (PyAV, stereo) and back to the event loop
with ``run_coroutine_threadsafe``; a reader task then resamples stereo to mono. Here each
packet is decoded inline, mono, by libopus, and the PCM goes straight to the mixer, whose own
jitter buffer (``MAX_BUFFERED_FRAMES``) absorbs arrival jitter.

Packets in order are decoded at once. A gap in sequence numbers holds the packets after it
until the missing one comes (reordered: it is then decoded in its place) or
``REORDER_PACKETS`` have come after the gap (20 ms apart: 40 ms); then it is a loss. The last
lost frame is recovered from the in-band FEC of the packet that follows it (libopus conceals
instead when that packet carries none), earlier ones are concealed (PLC), and a gap longer
than ``MAX_CONCEAL_SAMPLES`` is left as silence rather than a long synthetic tail. A packet
that arrives after its place was filled, or twice, is dropped. The mixer's playout margin
absorbs the wait (it grows when a held gap leaves it short of audio).

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

#: Packets held after a gap, waiting for the missing one, before it is taken as lost.
REORDER_PACKETS = 2

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
        self._held: dict[int, RtpAudio] = {}  # by sequence number, after a gap

    def receive(self, packet: RtpAudio) -> None:
        if self._next_sequence is None:
            self._play(packet)
            return
        ahead = (packet.sequence_number - self._next_sequence) & 0xFFFF
        if ahead >= 0x8000 or packet.sequence_number in self._held:
            self.late += 1
            INBOUND_LATE_PACKETS.inc()
            return
        if ahead:
            self._held[packet.sequence_number] = packet
        else:
            self._play(packet)
        self._release()

    def _release(self) -> None:
        """Decode held packets that are next in order, or after a gap given up on."""
        while self._held:
            assert self._next_sequence is not None
            packet = self._held.pop(self._next_sequence, None)
            if packet is None:
                if len(self._held) < REORDER_PACKETS:
                    return
                start = self._next_sequence
                first = min(self._held, key=lambda sequence: (sequence - start) & 0xFFFF)
                packet = self._held.pop(first)
                self._fill_gap(packet)
            self._play(packet)

    def _play(self, packet: RtpAudio) -> None:
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
