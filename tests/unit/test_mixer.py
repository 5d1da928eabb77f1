"""The mixer, with real tones checked by FFT and plain calls: no clock, no asyncio."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from salon.media.levels import FLOOR_DBFS, level_dbfs
from salon.media.mixer import MAX_BUFFERED_FRAMES, Mix, Mixer, downmix_to_mono
from salon.media.pcm import FRAME_SAMPLES, SAMPLE_RATE, Pcm

AMPLITUDE = 8000.0
TONES = {1: 300.0, 2: 500.0, 3: 700.0}


def tone(freq: float, amplitude: float = AMPLITUDE, samples: int = FRAME_SAMPLES) -> Pcm:
    t = np.arange(samples) / SAMPLE_RATE
    return np.rint(amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def amplitude_at(pcm: Pcm, freq: float) -> float:
    """Peak amplitude of the ``freq`` component. A 960-sample frame has 50 Hz bins, so the
    test tones (multiples of 100 Hz) sit exactly on a bin and do not leak into others."""
    spectrum = np.abs(np.fft.rfft(pcm.astype(np.float64))) / (len(pcm) / 2)
    return float(spectrum[round(freq * len(pcm) / SAMPLE_RATE)])


def has_tone(pcm: Pcm, freq: float) -> bool:
    return amplitude_at(pcm, freq) > AMPLITUDE / 2


def lacks_tone(pcm: Pcm, freq: float) -> bool:
    return amplitude_at(pcm, freq) < 5.0  # rounding noise only


def stage(*input_ids: int) -> Mixer:
    mixer = Mixer()
    for input_id in input_ids:
        mixer.add_input(input_id)
    return mixer


def push_tones(mixer: Mixer, tones: dict[int, float]) -> None:
    for input_id, freq in tones.items():
        mixer.push(input_id, tone(freq))


def test_each_speaker_hears_everyone_but_themselves() -> None:
    mixer = stage(1, 2, 3)
    push_tones(mixer, TONES)
    mix = mixer.tick()
    assert set(mix.minus) == {1, 2, 3}
    for me, my_tone in TONES.items():
        assert lacks_tone(mix.minus[me], my_tone)
        for other, other_tone in TONES.items():
            if other != me:
                assert has_tone(mix.minus[me], other_tone)


def test_listeners_hear_everyone() -> None:
    mixer = stage(1, 2, 3)
    push_tones(mixer, TONES)
    program = mixer.tick().program
    assert program.dtype == np.int16
    assert program.shape == (FRAME_SAMPLES,)
    for freq in TONES.values():
        assert amplitude_at(program, freq) == pytest.approx(AMPLITUDE, abs=1.0)


def test_mix_minus_is_program_minus_own_without_clipping() -> None:
    mixer = stage(1, 2, 3)
    frames = {i: tone(f) for i, f in TONES.items()}
    for input_id, pcm in frames.items():
        mixer.push(input_id, pcm)
    mix = mixer.tick()
    total = sum(frame.astype(np.int32) for frame in frames.values())
    np.testing.assert_array_equal(mix.program, total)
    for input_id, pcm in frames.items():
        np.testing.assert_array_equal(mix.minus[input_id], total - pcm)


def test_a_single_speaker_passes_through_sample_exact_and_hears_silence() -> None:
    mixer = stage(7)
    speech = tone(440, samples=FRAME_SAMPLES * 10)
    out = []
    for start in range(0, len(speech), FRAME_SAMPLES):
        mixer.push(7, speech[start : start + FRAME_SAMPLES])
        mix = mixer.tick()
        out.append(mix.program)
        assert not mix.minus[7].any()
    np.testing.assert_array_equal(np.concatenate(out), speech)


def test_muted_input_is_absent_from_every_output() -> None:
    mixer = stage(1, 2, 3)
    mixer.set_muted(2, True)
    push_tones(mixer, TONES)
    mix = mixer.tick()
    assert lacks_tone(mix.program, TONES[2])
    for pcm in mix.minus.values():
        assert lacks_tone(pcm, TONES[2])
    assert has_tone(mix.minus[2], TONES[1])  # a muted speaker still hears the others
    assert has_tone(mix.minus[2], TONES[3])
    assert mix.levels[2] == FLOOR_DBFS
    assert mixer.is_muted(2)


def test_muting_discards_what_was_buffered() -> None:
    mixer = stage(1, 2)
    mixer.push(1, tone(300, samples=FRAME_SAMPLES * 3))
    mixer.set_muted(1, True)
    assert mixer.buffered(1) == 0
    mixer.set_muted(1, False)
    mix = mixer.tick()
    assert not mix.program.any()  # the audio from before the mute never plays
    mixer.push(1, tone(300))
    assert has_tone(mixer.tick().program, 300)


def test_audio_pushed_while_muted_is_dropped() -> None:
    mixer = stage(1)
    mixer.set_muted(1, True)
    mixer.push(1, tone(300))
    mixer.set_muted(1, False)
    assert mixer.buffered(1) == 0
    assert not mixer.tick().program.any()


def test_a_missing_input_contributes_silence_without_stalling() -> None:
    mixer = stage(1, 2, 3)
    for _ in range(5):
        push_tones(mixer, {1: TONES[1], 3: TONES[3]})  # 2 never sends anything
        mix = mixer.tick()
        assert has_tone(mix.program, TONES[1])
        assert has_tone(mix.program, TONES[3])
        assert has_tone(mix.minus[2], TONES[1])
        assert has_tone(mix.minus[1], TONES[3])
        assert mix.levels[2] == FLOOR_DBFS


def test_a_late_partial_frame_waits_for_the_rest() -> None:
    mixer = stage(1)
    speech = tone(300)
    mixer.push(1, speech[:500])
    assert not mixer.tick().program.any()  # less than a frame: silence, nothing consumed
    assert mixer.buffered(1) == 500
    mixer.push(1, speech[500:])
    np.testing.assert_array_equal(mixer.tick().program, speech)


def test_no_inputs_gives_silence() -> None:
    mix = Mixer().tick()
    assert mix.program.shape == (FRAME_SAMPLES,)
    assert not mix.program.any()
    assert mix.minus == {}
    assert mix.levels == {}


def test_push_accepts_any_length() -> None:
    mixer = stage(1)
    mixer.push(1, tone(300, samples=480))
    mixer.push(1, tone(300, samples=480))
    assert mixer.buffered(1) == FRAME_SAMPLES
    mixer.tick()
    mixer.push(1, tone(300, samples=2000))
    mixer.tick()
    mixer.tick()
    assert mixer.buffered(1) == 2000 - 2 * FRAME_SAMPLES
    mixer.push(1, tone(300, samples=0))
    assert mixer.buffered(1) == 80


def test_jitter_buffer_keeps_only_the_newest_frames() -> None:
    mixer = stage(1)
    freqs = [300.0 + 200 * k for k in range(MAX_BUFFERED_FRAMES + 2)]
    for freq in freqs:  # a burst longer than the buffer arrives between two ticks
        mixer.push(1, tone(freq))
    assert mixer.buffered(1) == MAX_BUFFERED_FRAMES * FRAME_SAMPLES
    assert mixer.counts(1).overflow_samples == 2 * FRAME_SAMPLES
    heard = [mixer.tick().program for _ in range(MAX_BUFFERED_FRAMES + 1)]
    for pcm, freq in zip(heard, freqs[2:], strict=False):
        assert has_tone(pcm, freq)
        assert all(lacks_tone(pcm, f) for f in freqs if f != freq)
    assert not heard[-1].any()


def test_jitter_buffer_drops_oldest_samples_exactly() -> None:
    mixer = stage(1)
    speech = tone(440, samples=MAX_BUFFERED_FRAMES * FRAME_SAMPLES + 1300)
    for start in range(0, len(speech), 700):  # odd-sized chunks
        mixer.push(1, speech[start : start + 700])
    kept = speech[-MAX_BUFFERED_FRAMES * FRAME_SAMPLES :]
    out = np.concatenate([mixer.tick().program for _ in range(MAX_BUFFERED_FRAMES)])
    np.testing.assert_array_equal(out, kept)
    assert mixer.buffered(1) == 0


def test_a_burst_of_several_frames_plays_out_whole() -> None:
    """A sender held up for 100 ms (a busy event loop, a reordered run) delivers 5 frames at
    once: every one is heard, in order, none dropped to bound the delay."""
    mixer = stage(1)
    freqs = [300.0, 500.0, 700.0, 900.0, 1100.0, 1300.0, 1500.0]
    heard = []
    mixer.push(1, tone(freqs[0]))
    heard.append(mixer.tick().program)
    for _ in range(5):  # nothing arrives for 5 ticks but the one frame kept...
        heard.append(mixer.tick().program)
    for freq in freqs[1:6]:
        mixer.push(1, tone(freq))
    for freq in freqs[6:]:
        heard += [mixer.tick().program for _ in range(5)]
        mixer.push(1, tone(freq))
    heard.append(mixer.tick().program)
    played = [f for f in freqs if any(has_tone(pcm, f) for pcm in heard)]
    assert played == freqs
    assert mixer.counts(1).overflow_samples == 0


def test_one_push_longer_than_the_buffer_keeps_its_tail() -> None:
    mixer = Mixer(max_buffered_frames=1)
    mixer.add_input(1)
    speech = tone(300, samples=FRAME_SAMPLES * 2 + 17)
    mixer.push(1, speech)
    np.testing.assert_array_equal(mixer.tick().program, speech[-FRAME_SAMPLES:])


def test_clipping_saturates_instead_of_wrapping() -> None:
    mixer = stage(1, 2, 3)
    loud = tone(300, amplitude=30000)
    for input_id in (1, 2, 3):
        mixer.push(input_id, loud)
    mix = mixer.tick()
    total = 3 * loud.astype(np.int32)
    np.testing.assert_array_equal(mix.program, np.clip(total, -32768, 32767))
    assert mix.program.max() == 32767
    assert mix.program.min() == -32768
    assert np.array_equal(np.sign(mix.program), np.sign(loud))  # no sign flips
    for pcm in mix.minus.values():
        np.testing.assert_array_equal(pcm, np.clip(2 * loud.astype(np.int32), -32768, 32767))


def test_removed_input_leaves_every_output() -> None:
    mixer = stage(1, 2, 3)
    mixer.remove_input(2)
    push_tones(mixer, TONES)  # pushing to the removed input is ignored
    mix = mixer.tick()
    assert set(mix.minus) == set(mix.levels) == {1, 3}
    assert lacks_tone(mix.program, TONES[2])
    assert has_tone(mix.program, TONES[1])
    assert has_tone(mix.minus[1], TONES[3])
    assert lacks_tone(mix.minus[1], TONES[1])
    assert mixer.inputs == (1, 3)
    mixer.remove_input(2)  # again: nothing happens


def test_an_input_added_again_starts_empty_and_unmuted() -> None:
    mixer = stage(1)
    mixer.push(1, tone(300))
    mixer.set_muted(1, True)
    mixer.remove_input(1)
    mixer.add_input(1)
    assert not mixer.is_muted(1)
    assert mixer.buffered(1) == 0


def test_adding_a_present_input_keeps_its_audio_and_mute() -> None:
    mixer = stage(1, 2)
    mixer.push(1, tone(300))
    mixer.set_muted(2, True)
    mixer.add_input(1)
    mixer.add_input(2)
    assert mixer.buffered(1) == FRAME_SAMPLES
    assert mixer.is_muted(2)


def test_unknown_inputs_are_ignored() -> None:
    mixer = stage(1)
    mixer.push(9, tone(300))
    mixer.set_muted(9, True)
    assert mixer.buffered(9) == 0
    assert mixer.inputs == (1,)


def test_push_rejects_anything_but_mono_int16() -> None:
    mixer = stage(1)
    with pytest.raises(TypeError, match="int16"):
        mixer.push(1, tone(300).astype(np.float32))
    with pytest.raises(TypeError, match="shape"):
        mixer.push(1, tone(300).reshape(2, -1))


def test_levels_are_each_inputs_own() -> None:
    mixer = stage(1, 2, 3)
    mixer.push(1, tone(1000, amplitude=32767))
    mixer.push(2, tone(500, amplitude=3000))
    levels = mixer.tick().levels
    assert levels[1] == pytest.approx(-3.01, abs=0.01)
    assert levels[2] == pytest.approx(level_dbfs(tone(500, amplitude=3000)))
    assert levels[3] == FLOOR_DBFS
    assert all(isinstance(level, float) for level in levels.values())


def test_outputs_are_not_overwritten_by_the_next_tick() -> None:
    """Callers queue the arrays (a speaker's outbound track keeps a few frames)."""
    mixer = stage(1, 2)
    push_tones(mixer, {1: 300.0, 2: 500.0})
    first = mixer.tick()
    kept = (first.program.copy(), first.minus[1].copy(), first.minus[2].copy())
    push_tones(mixer, {1: 700.0, 2: 900.0})
    mixer.tick()
    np.testing.assert_array_equal(first.program, kept[0])
    np.testing.assert_array_equal(first.minus[1], kept[1])
    np.testing.assert_array_equal(first.minus[2], kept[2])


def test_mix_is_frozen() -> None:
    mix = Mixer().tick()
    assert isinstance(mix, Mix)
    with pytest.raises(AttributeError):
        mix.program = mix.program  # type: ignore[misc]


def test_buffer_bound_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_buffered_frames"):
        Mixer(max_buffered_frames=0)


frames_strategy = st.integers(min_value=1, max_value=13).flatmap(
    lambda n: st.lists(
        arrays(np.int16, FRAME_SAMPLES, elements=st.integers(-32768, 32767)),
        min_size=n,
        max_size=n,
    )
)


@settings(max_examples=50, deadline=None)
@given(frames=frames_strategy, muted=st.sets(st.integers(0, 12)))
def test_mix_matches_the_definition(frames: list[Pcm], muted: set[int]) -> None:
    mixer = stage(*range(len(frames)))
    for input_id, pcm in enumerate(frames):
        mixer.set_muted(input_id, input_id in muted)
        mixer.push(input_id, pcm)
    mix = mixer.tick()
    heard = [
        np.zeros(FRAME_SAMPLES, np.int32) if i in muted else pcm.astype(np.int32)
        for i, pcm in enumerate(frames)
    ]
    total = np.sum(heard, axis=0)
    np.testing.assert_array_equal(mix.program, np.clip(total, -32768, 32767))
    for input_id, own in enumerate(heard):
        expected = np.clip(total - own, -32768, 32767)
        np.testing.assert_array_equal(mix.minus[input_id], expected)
        unclipped = (np.abs(total) <= 32767) & (np.abs(total - own) <= 32767)
        difference = mix.program.astype(np.int32) - own
        np.testing.assert_array_equal(mix.minus[input_id][unclipped], difference[unclipped])
        assert mix.levels[input_id] == pytest.approx(level_dbfs(own.astype(np.int16)))


# Down-mixing what aiortc's Opus decoder gives (48 kHz stereo s16) to Salon's mono PCM.


def stereo(left: Pcm, right: Pcm) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int16]]:
    """The same stereo frame packed (1, 2n) and planar (2, n), as PyAV lays them out."""
    planar = np.stack([left, right])
    packed = np.ascontiguousarray(planar.T).reshape(1, -1)
    return packed, planar


def test_downmix_packed_and_planar_stereo() -> None:
    left, right = tone(300, amplitude=10000), tone(500, amplitude=10000)
    packed, planar = stereo(left, right)
    assert packed.shape == (1, 2 * FRAME_SAMPLES)
    for frame in (packed, planar, packed.reshape(-1)):
        mono = downmix_to_mono(frame, 2)
        assert mono.dtype == np.int16
        assert mono.shape == (FRAME_SAMPLES,)
        assert amplitude_at(mono, 300) == pytest.approx(5000, abs=1.0)
        assert amplitude_at(mono, 500) == pytest.approx(5000, abs=1.0)


def test_downmix_of_a_centred_voice_keeps_its_samples() -> None:
    voice = tone(300, amplitude=32767)
    packed, _ = stereo(voice, voice)
    np.testing.assert_array_equal(downmix_to_mono(packed, 2), voice)


def test_downmix_cannot_clip() -> None:
    low = np.full(FRAME_SAMPLES, -32768, dtype=np.int16)
    packed, _ = stereo(low, low)
    assert downmix_to_mono(packed, 2).min() == -32768


def test_downmix_mono_is_flattened() -> None:
    voice = tone(300)
    np.testing.assert_array_equal(downmix_to_mono(voice.reshape(1, -1), 1), voice)


def test_downmix_rejects_bad_frames() -> None:
    with pytest.raises(TypeError, match="int16"):
        downmix_to_mono(np.zeros((1, 8), dtype=np.float32), 2)
    with pytest.raises(ValueError, match="2 channels"):
        downmix_to_mono(np.zeros((3, 8), dtype=np.int16), 2)
    with pytest.raises(ValueError, match="2 channels"):
        downmix_to_mono(np.zeros((1, 7), dtype=np.int16), 2)
    with pytest.raises(ValueError, match="channels"):
        downmix_to_mono(np.zeros((1, 8), dtype=np.int16), 0)


QUIET = np.zeros(FRAME_SAMPLES, dtype=np.int16)
LOUD = np.full(FRAME_SAMPLES, 1000, dtype=np.int16)  # -30 dBFS: a word


def test_a_standing_queue_is_drained_after_a_window() -> None:
    from salon.media.mixer import DRAIN_WINDOW_TICKS

    mixer = Mixer()
    mixer.add_input(1)
    mixer.push(1, np.concatenate([QUIET, QUIET]))  # a burst at connect: one frame too many
    for _ in range(DRAIN_WINDOW_TICKS - 1):
        mixer.tick()
        mixer.push(1, QUIET)
    # Each tick takes one frame and one arrives: a frame stays queued, 20 ms of delay.
    assert mixer.buffered(1) == 2 * FRAME_SAMPLES
    mixer.tick()  # the window closes: its low-water mark held a whole frame, which goes
    mixer.push(1, QUIET)
    mixer.tick()
    mixer.push(1, QUIET)
    assert mixer.buffered(1) == FRAME_SAMPLES
    assert mixer.counts(1).drained_frames == 1


def test_a_standing_frame_is_drained_in_a_pause_not_mid_word() -> None:
    """The drain drops a quiet frame, never a frame of a word: speech keeps every frame."""
    from salon.media.mixer import DRAIN_WINDOW_TICKS

    mixer = Mixer()
    mixer.add_input(1)
    words = [tone(300.0 + 100 * (k % 10)) for k in range(3 * DRAIN_WINDOW_TICKS)]
    sent = [LOUD, *words, QUIET, QUIET, LOUD, LOUD, LOUD]
    mixer.push(1, sent[0])
    heard = []
    for frame in sent[1:]:  # one frame standing all along, while a word goes on
        mixer.push(1, frame)
        heard.append(mixer.tick().program)
    heard.append(mixer.tick().program)
    # Every word frame was heard, in order; one of the two quiet frames went (so the last
    # tick finds nothing left).
    expected = [LOUD, *words, QUIET, LOUD, LOUD, LOUD, QUIET]
    assert len(heard) == len(expected)
    for got, want in zip(heard, expected, strict=True):
        np.testing.assert_array_equal(got, want)
    assert mixer.counts(1).drained_frames == 1


def test_a_standing_queue_goes_after_the_patience_even_without_a_pause() -> None:
    from salon.media.mixer import DRAIN_PATIENCE_TICKS, DRAIN_WINDOW_TICKS

    mixer = Mixer()
    mixer.add_input(1)
    mixer.push(1, np.concatenate([LOUD, LOUD]))
    for _ in range(DRAIN_WINDOW_TICKS + DRAIN_PATIENCE_TICKS + 1):
        mixer.tick()
        mixer.push(1, LOUD)
    assert mixer.buffered(1) == FRAME_SAMPLES
    assert mixer.counts(1).drained_frames == 1


def late_now_and_then(mixer: Mixer, ticks: int, every: int) -> int:
    """A sender whose frame is due just before each tick but misses it every ``every`` ticks
    (arrives just after: jitter around the tick); returns how many ticks played silence."""
    silent = 0
    late = False
    for tick in range(ticks):
        if tick % every == every - 1:
            late = True  # this tick's frame comes after it
        else:
            mixer.push(1, LOUD)
            if late:
                mixer.push(1, LOUD)  # the late one, with the next
                late = False
        silent += int(not mixer.tick().program.any())
    return silent


def test_jitter_grows_the_playout_margin_instead_of_running_dry_again() -> None:
    """Audio late now and then runs the buffer dry once; the margin then keeps the late frame
    as protection (not drained as standing delay), so it never runs dry again."""
    mixer = stage(1)
    silent = late_now_and_then(mixer, 1500, every=70)
    assert silent == 1
    assert mixer.counts(1).underruns == 1
    assert mixer.counts(1).grown == 1
    assert mixer.counts(1).drained_frames == 0


def test_the_margin_shrinks_after_a_calm_spell() -> None:
    from salon.media.mixer import DRAIN_WINDOW_TICKS, MARGIN_DECAY_TICKS

    mixer = stage(1)
    late_now_and_then(mixer, 6, every=5)  # one late frame: margin 1, a frame standing
    assert mixer.counts(1).grown == 1
    for _ in range(MARGIN_DECAY_TICKS + 3 * DRAIN_WINDOW_TICKS):  # then a steady, quiet link
        mixer.push(1, QUIET)
        mixer.tick()
    assert mixer.counts(1).drained_frames == 1  # the standing frame went once it was calm
    assert mixer.counts(1).underruns == 1


def test_a_sender_that_stops_is_one_underrun_not_one_a_tick() -> None:
    mixer = stage(1)
    mixer.push(1, LOUD)
    for _ in range(20):
        mixer.tick()
    assert mixer.counts(1).underruns == 1


def test_jitter_that_empties_the_buffer_is_not_drained() -> None:
    from salon.media.mixer import DRAIN_WINDOW_TICKS

    mixer = Mixer()
    mixer.add_input(1)
    frame = np.full(FRAME_SAMPLES, 1000, dtype=np.int16)
    heard = 0
    for tick in range(DRAIN_WINDOW_TICKS * 3):
        if tick % 2 == 0:
            mixer.push(1, np.concatenate([frame, frame]))  # packets arrive in pairs
        heard += int(np.any(mixer.tick().program))
    assert heard == DRAIN_WINDOW_TICKS * 3  # every tick had audio: nothing was thrown away


def test_recurring_jitter_holds_the_margin_longer() -> None:
    """Running dry every 4 s: after the first few, the margin is held instead of decaying
    after 2 s and being lost to the next late frame."""
    mixer = stage(1)
    late_now_and_then(mixer, 3000, every=200)
    assert mixer.counts(1).underruns <= 3  # of 15 late frames
