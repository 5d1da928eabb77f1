"""The room's encoding: one program packet for the quiet, own mix-minus for those sounding."""

from __future__ import annotations

import numpy as np

from salon.bots.analysis import tone_strength
from salon.bots.tracks import tone
from salon.media.encoding import HANGOVER_TICKS, StageEncoding
from salon.media.mixer import Mixer
from salon.media.opus import OpusDecoder
from salon.media.pcm import FRAME_SAMPLES, Pcm

TONES = {1: 300.0, 2: 700.0}


def _tick(
    mixer: Mixer, encoding: StageEncoding, index: int, sounding: set[int]
) -> dict[int, bytes]:
    for member, frequency in TONES.items():
        if member in sounding:
            pcm = tone(frequency, 1.0, level=0.2)[index * FRAME_SAMPLES % 48_000 :][:FRAME_SAMPLES]
            mixer.push(member, pcm)
    mix = mixer.tick()
    encoded = encoding.tick(mix.program, mix.minus, mix.levels, TONES)
    return {member: packet for member in TONES if (packet := encoded.for_member(member))}


def _stage() -> tuple[Mixer, StageEncoding]:
    mixer = Mixer()
    for member in TONES:
        mixer.add_input(member)
    return mixer, StageEncoding()


def test_quiet_members_share_the_program_packet_and_a_speaker_gets_their_own() -> None:
    mixer, encoding = _stage()
    heard: dict[int, list[Pcm]] = {1: [], 2: []}
    decoders = {member: OpusDecoder() for member in TONES}
    for index in range(50):
        packets = _tick(mixer, encoding, index, sounding={1})
        for member, packet in packets.items():
            heard[member].append(decoders[member].decode(packet))
    assert not encoding.on_own_stream(2)
    assert encoding.on_own_stream(1)
    assert packets[1] != packets[2]
    speaker, quiet = np.concatenate(heard[1][10:]), np.concatenate(heard[2][10:])
    assert tone_strength(quiet, TONES[1]) > 0.9  # the quiet member hears the speaker
    assert tone_strength(speaker, TONES[1]) < 0.01  # the speaker does not hear themself


def test_a_speaker_returns_to_the_program_after_the_hangover() -> None:
    mixer, encoding = _stage()
    for index in range(5):
        _tick(mixer, encoding, index, sounding={1})
    for index in range(HANGOVER_TICKS):
        assert encoding.on_own_stream(1)
        _tick(mixer, encoding, 5 + index, sounding=set())
    assert not encoding.on_own_stream(1)
    packets = _tick(mixer, encoding, 20, sounding=set())
    assert packets[1] is packets[2]


def test_switching_streams_keeps_the_listener_decoder_in_step() -> None:
    """Member 2 hears the program, then starts speaking: their first own packet continues the
    stream their decoder had (without the state hand-over it decodes to a click twice as loud
    as the tone)."""
    mixer, encoding = _stage()
    decoder = OpusDecoder()
    heard = []
    for index in range(40):
        sounding = {1} if index < 20 else {1, 2}
        heard.append(decoder.decode(_tick(mixer, encoding, index, sounding)[2]))
    steady = max(int(np.abs(pcm).max()) for pcm in heard[10:20])
    for pcm in heard[20:24]:
        assert int(np.abs(pcm).max()) < 1.1 * steady
    assert tone_strength(np.concatenate(heard[20:30]), TONES[2]) < 0.01


def test_nothing_is_encoded_for_an_empty_audience() -> None:
    encoding = StageEncoding()
    silence = np.zeros(FRAME_SAMPLES, np.int16)
    assert encoding.tick(silence, {}, {}, []).program is None
    assert encoding.tick(silence, {}, {}, [], viewers=1).program is not None
