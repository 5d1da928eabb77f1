"""What a bot hears: level and dominant frequency of PCM."""

from __future__ import annotations

import numpy as np

from salon.media.pcm import SAMPLE_RATE, Pcm


def dominant_frequency(pcm: Pcm) -> float:
    """The strongest frequency in ``pcm`` (Hz), 0.0 for silence."""
    if len(pcm) == 0 or not np.any(pcm):
        return 0.0
    spectrum = np.abs(np.fft.rfft(pcm.astype(np.float64) * np.hanning(len(pcm))))
    spectrum[0] = 0.0
    return float(np.argmax(spectrum) * SAMPLE_RATE / len(pcm))


def tone_strength(pcm: Pcm, frequency: float) -> float:
    """How much of ``pcm``'s energy sits within ±10 Hz of ``frequency`` (0..1)."""
    if len(pcm) == 0 or not np.any(pcm):
        return 0.0
    spectrum = np.abs(np.fft.rfft(pcm.astype(np.float64) * np.hanning(len(pcm)))) ** 2
    freqs = np.fft.rfftfreq(len(pcm), 1 / SAMPLE_RATE)
    band = (freqs > frequency - 10) & (freqs < frequency + 10)
    return float(spectrum[band].sum() / spectrum.sum())
