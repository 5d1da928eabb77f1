"""Salon's libopus binding: round trips by signal, FEC against PLC, state hand-over."""

from __future__ import annotations

import numpy as np
import pytest

from salon.bots.analysis import tone_strength
from salon.bots.tracks import tone
from salon.media.opus import OpusDecoder, OpusEncoder, version
from salon.media.pcm import FRAME_SAMPLES, Pcm


def _frames(pcm: Pcm) -> list[Pcm]:
    return [pcm[i : i + FRAME_SAMPLES] for i in range(0, len(pcm), FRAME_SAMPLES)]


def _voice(seconds: float) -> Pcm:
    """A voiced-speech stand-in: harmonics of a gliding pitch in syllables with pauses (a
    steady sound is taken for noise by the encoder's voice detector, which then sends no FEC)."""
    t = np.arange(int(48_000 * seconds)) / 48_000
    pitch = 140 + 40 * np.sin(2 * np.pi * 1.3 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / 48_000
    wave = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = np.clip(np.sin(2 * np.pi * 2.0 * t), 0, None) ** 2
    return (6000 * wave * envelope).astype(np.int16)


def test_the_library_is_loaded() -> None:
    assert version().startswith("libopus")


def test_a_tone_survives_a_round_trip() -> None:
    encoder, decoder = OpusEncoder(), OpusDecoder()
    decoded = np.concatenate([decoder.decode(encoder.encode(f)) for f in _frames(tone(440, 1))])
    assert len(decoded) == 48_000
    assert tone_strength(decoded[4800:], 440) > 0.9
    assert tone_strength(decoded[4800:], 1000) < 0.01


def test_frames_of_the_wrong_size_are_refused() -> None:
    with pytest.raises(ValueError, match="960"):
        OpusEncoder().encode(np.zeros(480, np.int16))


def _error(a: Pcm, b: Pcm) -> float:
    return float(np.sqrt(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)))


def test_fec_recovers_a_lost_frame_better_than_concealment() -> None:
    encoder = OpusEncoder(bitrate=32_000, fec=True, expected_loss_percent=20)
    packets = [encoder.encode(f) for f in _frames(_voice(2.0))]
    lost = 56  # mid-syllable
    reference = OpusDecoder()
    clean = [reference.decode(p) for p in packets[: lost + 1]][lost]
    errors = {}
    for way in ("fec", "plc"):
        decoder = OpusDecoder()
        for packet in packets[:lost]:
            decoder.decode(packet)
        recovered = decoder.decode_fec(packets[lost + 1]) if way == "fec" else decoder.conceal()
        assert len(recovered) == FRAME_SAMPLES
        errors[way] = _error(recovered, clean)
    assert errors["fec"] < 0.5 * errors["plc"], errors


def test_an_encoder_that_follows_another_continues_its_stream_exactly() -> None:
    frames = _frames(_voice(0.4))
    leader, follower = OpusEncoder(), OpusEncoder()
    for frame in frames[:10]:
        leader.encode(frame)
    follower.follow(leader)
    assert [follower.encode(f) for f in frames[10:]] == [leader.encode(f) for f in frames[10:]]
