"""Levels and active-speaker detection: real tones, explicit times, no clock."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from salon.media.levels import FLOOR_DBFS, ActiveSpeakers, dbfs_from_mean_square, level_dbfs
from salon.media.pcm import FRAME_SAMPLES, SAMPLE_RATE, Pcm, silence

TICK = 0.02
LOUD = -20.0
QUIET = -60.0


def tone(freq: float, amplitude: float = 32767.0, samples: int = FRAME_SAMPLES) -> Pcm:
    t = np.arange(samples) / SAMPLE_RATE
    return np.rint(amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def test_full_scale_sine_is_about_minus_3_dbfs() -> None:
    assert level_dbfs(tone(1000)) == pytest.approx(-3.01, abs=0.01)


def test_half_amplitude_is_6_db_lower() -> None:
    assert level_dbfs(tone(500, 16384)) == pytest.approx(-9.03, abs=0.01)


def test_full_scale_square_is_0_dbfs() -> None:
    square = np.full(FRAME_SAMPLES, -32768, dtype=np.int16)
    assert level_dbfs(square) == pytest.approx(0.0)


def test_silence_and_empty_are_the_floor() -> None:
    assert level_dbfs(silence()) == FLOOR_DBFS
    assert level_dbfs(np.zeros(0, dtype=np.int16)) == FLOOR_DBFS
    assert dbfs_from_mean_square(0.0) == FLOOR_DBFS
    assert math.isfinite(FLOOR_DBFS)


def test_one_lsb_is_above_the_floor() -> None:
    lsb = np.ones(FRAME_SAMPLES, dtype=np.int16)
    assert level_dbfs(lsb) == pytest.approx(-90.31, abs=0.01)


def feed(
    detector: ActiveSpeakers, levels: dict[int, float], start: float, ticks: int
) -> list[tuple[float, frozenset[int]]]:
    """Feed the same levels every 20 ms; the (time, set) of every report."""
    reports = []
    for n in range(ticks):
        now = start + n * TICK
        result = detector.update(levels, now)
        if result is not None:
            reports.append((round(now, 6), result))
    return reports


def test_onset_is_reported_on_the_first_loud_frame() -> None:
    detector = ActiveSpeakers()
    assert detector.update({1: QUIET}, 0.0) is None
    assert detector.update({1: LOUD}, 0.02) == frozenset({1})
    assert detector.speaking == frozenset({1})
    assert detector.update({1: LOUD}, 0.04) is None  # no change, no report


def test_threshold_is_strict() -> None:
    detector = ActiveSpeakers(threshold_dbfs=-45.0)
    assert detector.update({1: -45.0}, 0.0) is None
    assert detector.update({1: -44.9}, 0.02) == frozenset({1})


def test_speech_stops_only_after_the_hold() -> None:
    detector = ActiveSpeakers(hold=0.4, min_interval=0.0)
    assert detector.update({1: LOUD}, 1.0) == frozenset({1})
    # Quiet frames for 0.38 s after the last loud one: still speaking.
    assert feed(detector, {1: QUIET}, 1.02, 19) == []
    assert detector.update({1: QUIET}, 1.42) == frozenset()


def test_a_word_gap_shorter_than_the_hold_does_not_flicker() -> None:
    # A hold that is not a whole number of ticks keeps the expected times off float boundaries.
    detector = ActiveSpeakers(hold=0.41, min_interval=0.0)
    reports = feed(detector, {1: LOUD}, 0.0, 10)  # 0.00-0.18 speaking
    reports += feed(detector, {1: QUIET}, 0.20, 15)  # a 0.3 s gap
    reports += feed(detector, {1: LOUD}, 0.50, 10)
    reports += feed(detector, {1: QUIET}, 0.70, 30)
    assert reports == [(0.0, frozenset({1})), (1.1, frozenset())]


def test_changes_are_rate_limited_but_not_lost() -> None:
    detector = ActiveSpeakers(hold=0.0, min_interval=0.25)
    assert detector.update({1: LOUD, 2: QUIET}, 0.0) == frozenset({1})
    # 2 starts 40 ms later: too soon to report...
    assert detector.update({1: LOUD, 2: LOUD}, 0.04) is None
    assert feed(detector, {1: LOUD, 2: LOUD}, 0.06, 9) == []  # up to 0.22
    # ...so it is reported at the first update once 0.25 s have passed.
    assert detector.update({1: LOUD, 2: LOUD}, 0.26) == frozenset({1, 2})


def test_a_change_undone_within_the_interval_is_never_reported() -> None:
    detector = ActiveSpeakers(hold=0.0, min_interval=0.25)
    assert detector.update({1: LOUD}, 0.0) == frozenset({1})
    assert detector.update({1: LOUD, 2: LOUD}, 0.1) is None
    assert detector.update({1: LOUD, 2: QUIET}, 0.3) is None  # back to what was reported


def test_reports_are_at_most_every_min_interval() -> None:
    detector = ActiveSpeakers(hold=0.0, min_interval=0.25)
    times = []
    for n in range(100):  # a level that flips every frame for 2 s
        now = n * TICK
        if detector.update({1: LOUD if n % 2 else QUIET}, now) is not None:
            times.append(now)
    assert len(times) >= 4
    assert all(b - a >= 0.25 - 1e-9 for a, b in itertools.pairwise(times))


def test_several_speakers_start_and_stop_independently() -> None:
    detector = ActiveSpeakers(hold=0.41, min_interval=0.25)
    reports = feed(detector, {1: LOUD, 2: QUIET, 3: QUIET}, 0.0, 25)  # 0.00-0.48
    reports += feed(detector, {1: LOUD, 2: LOUD, 3: QUIET}, 0.50, 25)  # 0.50-0.98
    reports += feed(detector, {1: QUIET, 2: LOUD, 3: LOUD}, 1.00, 50)  # 1.00-1.98
    reports += feed(detector, {1: QUIET, 2: QUIET, 3: QUIET}, 2.00, 50)
    assert reports == [
        (0.0, frozenset({1})),
        (0.5, frozenset({1, 2})),
        (1.0, frozenset({1, 2, 3})),  # 1 went quiet at 1.00 but is within the hold
        (1.4, frozenset({2, 3})),  # last loud at 0.98, + 0.41 hold
        (2.4, frozenset()),
    ]


def test_an_input_that_leaves_stops_speaking_at_once() -> None:
    detector = ActiveSpeakers(hold=0.4, min_interval=0.0)
    assert detector.update({1: LOUD, 2: LOUD}, 0.0) == frozenset({1, 2})
    assert detector.update({1: LOUD}, 0.02) == frozenset({1})
    assert detector.update({}, 0.04) == frozenset()


def test_nothing_is_reported_while_nobody_speaks() -> None:
    detector = ActiveSpeakers()
    assert feed(detector, {1: FLOOR_DBFS, 2: QUIET}, 0.0, 100) == []


def test_levels_from_real_frames_drive_detection() -> None:
    detector = ActiveSpeakers(min_interval=0.0)
    voice, hiss = level_dbfs(tone(300, 3000)), level_dbfs(tone(300, 50))
    assert voice > -45.0 > hiss
    assert detector.update({1: voice, 2: hiss}, 0.0) == frozenset({1})


def test_negative_hold_is_rejected() -> None:
    with pytest.raises(ValueError, match="hold"):
        ActiveSpeakers(hold=-1.0)
