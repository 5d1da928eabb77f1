"""The room's Opus encoding: the program encoded once per tick, a mix-minus only when it differs.

A stage member's mix-minus is the program without their own input. While their input is
inaudible (below ``INAUDIBLE_DBFS``), the two are the same to the ear, so they get the shared
program packet and nothing is encoded for them alone. Only members making sound get their own
encoder's packet, so the per-member cost follows who talks, not who is on stage.

Switching a listener between the shared stream and its own encoder's stream must not be heard:
each Opus packet is predicted from the encoder's history, which the listener's decoder mirrors.

- program → own: the member's encoder first takes over the program encoder's state
  (``OpusEncoder.follow``) from before this tick's program frame, which is exactly what the
  listener's decoder has: the switch is seamless, bit for bit.
- own → program: only after ``HANGOVER_TICKS`` quiet ticks. By then both encoders have been
  fed the same audio for that long, so the program encoder's recent history matches what the
  listener decoded up to coding noise. If no one took the program last tick, the program
  encoder is idle and free: it takes over that member's state instead, seamless again.

No asyncio and no I/O, so it is tested with plain calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from salon.media.opus import OPUS_APPLICATION_AUDIO, OpusEncoder
from salon.media.pcm import Pcm

#: A member whose own input is quieter than this hears the program instead of their
#: mix-minus: their own contribution is below the program's noise floor.
INAUDIBLE_DBFS = -55.0

#: Quiet ticks (200 ms) a member keeps their own stream after sounding, so that a pause
#: between words does not switch streams, and so that switching back happens on audio that
#: both encoders have already seen.
HANGOVER_TICKS = 10

#: How the stage's downlink is encoded. Measured with bench/quality.py (PESQ-WB, espeak
#: speech, two Opus hops): FEC-capable speech rates (SILK/hybrid, 32-64 kbit/s with FEC)
#: scored 3.0-4.0 and cost 3-4x the CPU of CELT; CELT at 128 kbit/s mono scores as the former
#: 96 kbit/s stereo (4.4 two hops) for ~half its CPU. Downlink losses are concealed by the
#: listener (PLC); speakers' uplink FEC, where browsers send it, is used by inbound.py.
STAGE_OPUS: dict[str, int | bool] = {
    "bitrate": 128_000,
    "fec": False,
    "expected_loss_percent": 0,
    "complexity": 10,
    "application": OPUS_APPLICATION_AUDIO,
    "voice": False,
}


def stage_encoder() -> OpusEncoder:
    return OpusEncoder(**STAGE_OPUS)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Encoded:
    """One tick's packets: ``program`` (None if nobody needs it) and ``own[member]`` for the
    members sounding now; everyone else on stage gets ``program``."""

    program: bytes | None
    own: dict[int, bytes]

    def for_member(self, member: int) -> bytes | None:
        return self.own.get(member, self.program)


class _Own:
    __slots__ = ("encoder", "quiet_left")

    def __init__(self) -> None:
        self.encoder = stage_encoder()
        self.quiet_left = 0  # ticks of own stream left; 0: on the program


class StageEncoding:
    """Encodes one tick for a room: ``tick(program, minus, levels, members, viewers)``."""

    def __init__(self) -> None:
        self.program_encoder = stage_encoder()
        self._program_ran = False
        self._own: dict[int, _Own] = {}

    def on_own_stream(self, member: int) -> bool:
        own = self._own.get(member)
        return own is not None and own.quiet_left > 0

    def forget(self, member: int) -> None:
        self._own.pop(member, None)

    def tick(
        self,
        program: Pcm,
        minus: Mapping[int, Pcm],
        levels: Mapping[int, float],
        members: Iterable[int],
        *,
        viewers: int = 0,
    ) -> Encoded:
        """``members``: stage members to send to now; ``viewers``: program-only receivers."""
        starting: list[_Own] = []
        leaving: list[_Own] = []
        sounding: dict[int, _Own] = {}
        on_program = 0
        for member in members:
            own = self._own.get(member)
            was_own = own is not None and own.quiet_left > 0
            if levels.get(member, -1000.0) >= INAUDIBLE_DBFS and member in minus:
                if own is None:
                    own = self._own[member] = _Own()
                if not was_own:
                    starting.append(own)
                own.quiet_left = HANGOVER_TICKS
            elif own is not None and was_own:
                own.quiet_left -= 1
                if own.quiet_left == 0:
                    leaving.append(own)
            if own is not None and own.quiet_left > 0 and member in minus:
                sounding[member] = own
            else:
                on_program += 1
        for own in starting:  # the listener's decoder holds the program encoder's history
            own.encoder.follow(self.program_encoder)
        packet: bytes | None = None
        if on_program or viewers:
            if not self._program_ran and leaving:
                self.program_encoder.follow(leaving[0].encoder)
            packet = self.program_encoder.encode(program)
        self._program_ran = packet is not None
        return Encoded(
            program=packet,
            own={member: own.encoder.encode(minus[member]) for member, own in sounding.items()},
        )
