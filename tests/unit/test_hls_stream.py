"""A live space's LL-HLS output: what FFmpeg decodes from it, what the playlist says, and
blocking playlist reload."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from pathlib import Path

import av
import m3u8
import numpy as np
import numpy.typing as npt
import pytest

from salon.clock import FakeClock
from salon.media.hls.playlist import render_live
from salon.media.hls.recorder import Recorder, chunk_files, read_recording, vod_playlist
from salon.media.hls.stream import LiveStream, Timeout, TooFarAhead, first_msn_for
from salon.media.pcm import FRAME_SAMPLES, SAMPLE_RATE, Pcm, silence

TONE_HZ = 440.0
AMPLITUDE = 10_000
PART_SAMPLES = 9 * 1024
SEGMENT_SAMPLES = 5 * PART_SAMPLES
#: The AAC encoder's delay: one frame in before the first one comes out.
PRIMING = 1024


def tone(samples: int, start: int = 0) -> Pcm:
    t = np.arange(start, start + samples) / SAMPLE_RATE
    return (np.sin(2 * np.pi * TONE_HZ * t) * AMPLITUDE).astype(np.int16)


def feed(stream: LiveStream, samples: int, start: int = 0) -> int:
    """Push a tone in 20 ms mixer frames (the last one may be short); return samples pushed."""
    audio = tone(samples, start)
    for offset in range(0, samples, FRAME_SAMPLES):
        stream.push(audio[offset : offset + FRAME_SAMPLES])
    return samples


def decode(data: bytes) -> tuple[npt.NDArray[np.float32], list[int]]:
    """Decode fMP4 with FFmpeg: the samples (float, -1..1) and each AAC frame's pts."""
    chunks = []
    pts = []
    with av.open(io.BytesIO(data), mode="r") as container:
        for frame in container.decode(container.streams.audio[0]):
            assert frame.pts is not None
            pts.append(frame.pts)
            chunks.append(frame.to_ndarray()[0].astype(np.float32))
    return np.concatenate(chunks), pts


def all_parts(stream: LiveStream) -> list[bytes]:
    parts = []
    for segment in m3u8.loads(stream.playlist().decode()).segments:
        parts += [stream.part(*_part_name(p.uri)) for p in segment.parts]
    assert all(part is not None for part in parts)
    return [part for part in parts if part is not None]


def _part_name(uri: str) -> tuple[int, int]:
    msn, index = uri.removeprefix("part").removesuffix(".m4s").split(".")
    return int(msn), int(index)


def dominant_hz(samples: npt.NDArray[np.float32]) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)[int(np.argmax(spectrum))])


def test_parts_decode_to_the_tone_without_gaps() -> None:
    stream = LiveStream(clock=FakeClock())
    feed(stream, 2 * SAMPLE_RATE)  # 2 s: parts of segments 0 and 1 are all still listed
    parts = all_parts(stream)
    assert len(parts) == 10  # 93 whole frames in, 92 out, 10 parts of 9

    audio, pts = decode(stream.init + b"".join(parts))

    assert len(audio) == len(parts) * PART_SAMPLES
    assert pts == [i * 1024 for i in range(len(parts) * 9)]  # no gap, no overlap
    steady = audio[4096:]
    assert dominant_hz(steady) == pytest.approx(TONE_HZ, abs=2)
    rms = float(np.sqrt(np.mean(steady**2)))
    assert rms == pytest.approx(AMPLITUDE / 32768 / np.sqrt(2), rel=0.1)


def test_each_part_starts_where_the_previous_one_ended() -> None:
    stream = LiveStream(clock=FakeClock())
    feed(stream, 2 * SAMPLE_RATE)
    starts = []
    for part in all_parts(stream):
        audio, pts = decode(stream.init + part)  # a part alone after init decodes too
        assert len(audio) == PART_SAMPLES
        starts.append(pts[0])

    assert starts == [i * PART_SAMPLES for i in range(len(starts))]


def test_stream_timeline_is_the_input_delayed_by_the_priming_frame() -> None:
    stream = LiveStream(clock=FakeClock())
    pushed = tone(2 * SAMPLE_RATE)
    stream.push(pushed)
    audio, _ = decode(stream.init + b"".join(all_parts(stream)))

    expected = pushed[: len(audio) - PRIMING].astype(np.float32) / 32768
    error = np.abs(audio[PRIMING + 2048 :] - expected[2048:])
    assert float(np.max(error)) < 0.05  # AAC at 64 kbit/s keeps a pure tone close


def test_a_segment_alone_after_init_decodes() -> None:
    stream = LiveStream(clock=FakeClock())
    feed(stream, 3 * SAMPLE_RATE)
    segment = stream.segment(1)
    assert segment is not None
    assert segment == b"".join(p for p in (stream.part(1, i) for i in range(5)) if p)

    audio, pts = decode(stream.init + segment)

    assert len(audio) == SEGMENT_SAMPLES
    assert pts[0] == SEGMENT_SAMPLES
    assert dominant_hz(audio) == pytest.approx(TONE_HZ, abs=2)


def test_parts_are_published_as_soon_as_nine_frames_are_encoded() -> None:
    stream = LiveStream(clock=FakeClock())
    published: list[tuple[int, int, int]] = []
    pushed = 0
    stream.on_part = lambda msn, index, data: published.append((msn, index, pushed))
    for _ in range(150):  # 3 s of 20 ms mixer frames
        pushed += FRAME_SAMPLES
        stream.push(tone(FRAME_SAMPLES))

    # A part needs 9 frames out, and the encoder holds one frame back: the first part
    # is out once 10 * 1024 samples are in, then one every 9 * 1024.
    ready = [10 * 1024 + k * PART_SAMPLES for k in range(len(published))]
    assert [when for _, _, when in published] == [
        -(-need // FRAME_SAMPLES) * FRAME_SAMPLES for need in ready
    ]
    assert [(msn, index) for msn, index, _ in published] == [(k // 5, k % 5) for k in range(15)]


def test_playlist_timing_follows_the_clock_of_the_first_push() -> None:
    clock = FakeClock()
    stream = LiveStream(clock=clock)
    first_push = clock.now()
    feed(stream, 3 * SAMPLE_RATE)
    clock.advance(60)  # later pushes do not move the timeline: it counts samples
    feed(stream, SAMPLE_RATE // 2)
    parsed = m3u8.loads(stream.playlist().decode())

    assert parsed.target_duration == 1
    assert parsed.part_inf.part_target == pytest.approx(0.192)
    assert parsed.server_control.part_hold_back == pytest.approx(0.576)
    assert parsed.server_control.can_block_reload == "YES"
    finished = [s for s in parsed.segments if s.uri]
    assert [s.uri for s in finished] == ["seg0.m4s", "seg1.m4s", "seg2.m4s"]
    for msn, segment in enumerate(finished):
        assert segment.duration == pytest.approx(0.96)
        priming = timedelta(seconds=PRIMING / SAMPLE_RATE)
        expected = first_push + timedelta(seconds=0.96 * msn) - priming
        assert abs(segment.program_date_time - expected) < timedelta(milliseconds=1)
    # 3.5 s in: 164 frames in, 163 out, 18 parts: segment 3 has three so far.
    open_parts = parsed.segments[-1].parts
    assert parsed.segments[-1].uri is None
    assert len(open_parts) == 3
    assert parsed.preload_hint.uri == "part3.3.m4s"
    assert stream.is_upcoming(3, 3)
    assert not stream.is_upcoming(3, 4)


def test_the_playlist_is_rendered_once_per_publication() -> None:
    stream = LiveStream(clock=FakeClock())
    feed(stream, SAMPLE_RATE)
    first = stream.playlist()
    assert stream.playlist() is first  # the same bytes object: no render, no encode
    assert first == render_live(stream.describe()).encode()
    hint = stream.preload_hint
    while stream.preload_hint == hint:  # up to the next part's publication
        feed(stream, FRAME_SAMPLES)
    second = stream.playlist()
    assert second != first
    assert second == render_live(stream.describe()).encode()
    stream.end()
    assert m3u8.loads(stream.playlist().decode()).is_endlist


def test_end_flushes_the_tail_and_closes_the_playlist() -> None:
    stream = LiveStream(clock=FakeClock())
    pushed = feed(stream, 2 * SAMPLE_RATE + 500)
    stream.end()
    stream.end()  # twice is harmless
    text = stream.playlist().decode()
    parsed = m3u8.loads(text)

    assert parsed.is_endlist
    assert parsed.preload_hint is None
    assert all(s.uri for s in parsed.segments)  # nothing left open
    segments = [stream.segment(n) for n in range(len(parsed.segments))]
    audio, pts = decode(stream.init + b"".join(s for s in segments if s))
    assert len(audio) == pytest.approx(pushed + PRIMING, abs=1024)
    assert len(audio) >= pushed + PRIMING
    assert pts == [i * 1024 for i in range(len(pts))]
    assert sum(s.duration for s in parsed.segments) == pytest.approx(len(audio) / SAMPLE_RATE)
    with pytest.raises(RuntimeError, match="ended"):
        stream.push(silence())


def test_window_is_bounded() -> None:
    stream = LiveStream(clock=FakeClock(), window=3.0)
    assert stream.window_segments == 5  # never under three target durations plus one
    feed(stream, 16 * SAMPLE_RATE)
    parsed = m3u8.loads(stream.playlist().decode())

    finished = [s for s in parsed.segments if s.uri]
    assert len(finished) == stream.window_segments
    last = parsed.media_sequence + len(finished) - 1
    assert [s.uri for s in finished] == [
        f"seg{n}.m4s" for n in range(parsed.media_sequence, last + 1)
    ]
    # Media outlives the playlist by one window, then goes.
    kept = [n for n in range(last + 1) if stream.segment(n) is not None]
    assert kept == list(range(last + 1 - 2 * stream.window_segments, last + 1))
    assert stream.part(kept[0] - 1, 0) is None
    assert stream.part(kept[0], 0) is not None


async def test_request_for_what_exists_returns_at_once() -> None:
    stream = LiveStream(clock=FakeClock())
    feed(stream, SAMPLE_RATE + SAMPLE_RATE // 2)  # segment 0 and part 1.0 exist

    await stream.wait_for(0, None, timeout=0)
    await stream.wait_for(0, 4, timeout=0)
    await stream.wait_for(1, 0, timeout=0)
    await stream.wait_for(0, 7, timeout=0)  # past segment 0's last part: that's part 1.0


async def test_waiter_for_the_next_part_wakes_when_it_is_pushed() -> None:
    stream = LiveStream(clock=FakeClock())
    feed(stream, 10 * 1024)  # part 0.0 is out
    waiter = asyncio.create_task(stream.wait_for(0, 1, timeout=5))
    await asyncio.sleep(0)
    feed(stream, 4 * 1024, start=10 * 1024)
    await asyncio.sleep(0)
    assert not waiter.done()

    feed(stream, 5 * 1024, start=14 * 1024)  # the ninth frame of part 0.1
    await asyncio.wait_for(waiter, timeout=1)
    assert stream.part(0, 1) is not None


async def test_waiter_for_a_segment_wakes_when_it_closes() -> None:
    stream = LiveStream(clock=FakeClock())
    waiter = asyncio.create_task(stream.wait_for(0, None, timeout=5))
    feed(stream, 4 * PART_SAMPLES + 1024)
    await asyncio.sleep(0)
    assert not waiter.done()

    feed(stream, PART_SAMPLES, start=4 * PART_SAMPLES + 1024)
    await asyncio.wait_for(waiter, timeout=1)
    assert stream.segment(0) is not None


async def test_too_far_ahead_is_refused_at_once() -> None:
    stream = LiveStream(clock=FakeClock())
    feed(stream, 2 * SAMPLE_RATE)  # segments 0 and 1 finished, segment 2 open
    assert stream.advance_part_limit == pytest.approx(3 / 0.192)

    with pytest.raises(TooFarAhead) as refused:
        await stream.wait_for(4, None, timeout=5)  # last finished is 1: at most 3
    assert (refused.value.msn, refused.value.part) == (4, None)
    with pytest.raises(TooFarAhead):
        await stream.wait_for(4, 0, timeout=5)
    with pytest.raises(TooFarAhead):
        await stream.wait_for(3, 5, timeout=5)  # past segment 3's last part: that's 4.0
    with pytest.raises(Timeout):
        await stream.wait_for(3, 4, timeout=0.01)  # within limits: it waits


async def test_advance_part_limit_bounds_long_segments() -> None:
    stream = LiveStream(clock=FakeClock(), segment_parts=20)
    feed(stream, SAMPLE_RATE)  # parts 0.0 to 0.4

    with pytest.raises(TooFarAhead):
        await stream.wait_for(0, 20, timeout=5)  # part 1.0: 16 past 0.4, limit 15.6
    with pytest.raises(Timeout):
        await stream.wait_for(0, 19, timeout=0.01)  # 15 past: it waits


async def test_timeout_is_raised_when_nothing_comes() -> None:
    stream = LiveStream(clock=FakeClock())
    feed(stream, SAMPLE_RATE)

    with pytest.raises(Timeout) as timed_out:
        await stream.wait_for(1, 1, timeout=0.02)
    assert (timed_out.value.msn, timed_out.value.part) == (1, 1)


async def test_end_releases_waiters_and_later_requests() -> None:
    stream = LiveStream(clock=FakeClock())
    feed(stream, SAMPLE_RATE // 2)
    waiters = [asyncio.create_task(stream.wait_for(1, p, timeout=5)) for p in (None, 0, 3)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)

    stream.end()
    await asyncio.wait_for(asyncio.gather(*waiters), timeout=1)
    await stream.wait_for(100, 0, timeout=0)  # an ENDLIST playlist ignores the directives
    assert not stream.is_upcoming(1, 0)


async def test_negative_requests_are_invalid() -> None:
    stream = LiveStream(clock=FakeClock())
    with pytest.raises(ValueError, match="negative"):
        await stream.wait_for(-1, None)


def test_a_failing_part_hook_does_not_stop_the_stream() -> None:
    def broken(msn: int, index: int, data: bytes) -> None:
        raise OSError("disk full")

    stream = LiveStream(clock=FakeClock(), on_part=broken)
    feed(stream, SAMPLE_RATE)
    assert stream.part(0, 4) is not None


def test_recorder_keeps_segments_for_replay(tmp_path: Path) -> None:
    stream = LiveStream(clock=FakeClock())
    recorder = Recorder(tmp_path, stream.init)
    stream.on_part = recorder.on_part
    pushed = feed(stream, 3 * SAMPLE_RATE)
    stream.end()

    assert (tmp_path / "init.mp4").read_bytes() == stream.init
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["init.mp4", "seg0.m4s", "seg1.m4s", "seg2.m4s", "seg3.m4s"]
    assert (tmp_path / "seg1.m4s").read_bytes() == stream.segment(1)
    text = recorder.playlist(query="token=r")
    assert text == vod_playlist(tmp_path, query="token=r")  # the same after a restart
    parsed = m3u8.loads(text)
    assert parsed.playlist_type == "vod"
    assert parsed.is_endlist
    # Consecutive segments are joined into one entry (up to ten, aligned on multiples of ten).
    assert [s.uri for s in parsed.segments] == ["seg0-3.m4s?token=r"]
    assert chunk_files(tmp_path, "seg0-3.m4s") == [tmp_path / f"seg{n}.m4s" for n in range(4)]
    assert chunk_files(tmp_path, "seg0-4.m4s") is None  # seg4 does not exist
    assert chunk_files(tmp_path, "seg9-10.m4s") is None  # across groups: never listed

    media = (tmp_path / "init.mp4").read_bytes()
    media += b"".join((tmp_path / f"seg{n}.m4s").read_bytes() for n in range(4))
    audio, _ = decode(media)
    assert len(audio) >= pushed + PRIMING
    assert sum(s.duration for s in parsed.segments) == pytest.approx(len(audio) / SAMPLE_RATE)


def test_recording_again_into_the_same_directory_continues_after_a_gap(tmp_path: Path) -> None:
    first = LiveStream(clock=FakeClock())
    first.on_part = Recorder(tmp_path, first.init).on_part
    feed(first, 2 * SAMPLE_RATE)
    first.end()
    # A restart: the next run numbers its segments from the space's start time.
    second = LiveStream(clock=FakeClock(), first_msn=4, run=1)
    second.on_part = Recorder(tmp_path, second.init).on_part
    feed(second, SAMPLE_RATE)
    second.end()

    assert [s.msn for s in read_recording(tmp_path)] == [0, 1, 2, 4, 5]
    parsed = m3u8.loads(vod_playlist(tmp_path))
    assert [s.uri for s in parsed.segments] == ["seg0-2.m4s", "seg4-5.m4s"]
    assert [s.discontinuity for s in parsed.segments] == [False, True]


def test_a_damaged_recording_segment_is_skipped(tmp_path: Path) -> None:
    stream = LiveStream(clock=FakeClock())
    stream.on_part = Recorder(tmp_path, stream.init).on_part
    feed(stream, 2 * SAMPLE_RATE)
    stream.end()
    damaged = (tmp_path / "seg1.m4s").read_bytes()
    (tmp_path / "seg1.m4s").write_bytes(damaged[:-100])

    assert [s.msn for s in read_recording(tmp_path)] == [0, 2]


def test_a_later_run_continues_the_names_and_media_time_after_a_discontinuity() -> None:
    first = LiveStream(clock=FakeClock())
    feed(first, 3 * SAMPLE_RATE)
    first.end()
    first_names = {p.uri for s in m3u8.loads(first.playlist().decode()).segments for p in s.parts}
    last_msn = max(_part_name(uri)[0] for uri in first_names)
    # The restart came 4 s into the space: the mixer never runs ahead of real time.
    msn = first_msn_for(4.0, first.segment_duration)
    assert msn > last_msn
    second = LiveStream(clock=FakeClock(), first_msn=msn, run=1)
    feed(second, 2 * SAMPLE_RATE)

    text = second.playlist().decode()
    parsed = m3u8.loads(text)
    assert parsed.media_sequence == msn
    # The tagged segment is still listed: the sequence counts the tags that left.
    assert "#EXT-X-DISCONTINUITY-SEQUENCE" not in text
    assert parsed.segments[0].discontinuity
    assert not any(s.discontinuity for s in parsed.segments[1:])
    second_names = {p.uri for s in parsed.segments for p in s.parts}
    assert not first_names & second_names
    # Media time continues from where this run sits on the space's timeline.
    audio, pts = decode(second.init + b"".join(all_parts(second)))
    assert pts[0] == msn * SEGMENT_SAMPLES
    assert dominant_hz(audio[4096:]) == pytest.approx(TONE_HZ, abs=2)


def test_the_discontinuity_sequence_counts_the_tag_once_it_leaves_the_window() -> None:
    stream = LiveStream(clock=FakeClock(), first_msn=40, run=2, window=3.0)
    feed(stream, 10 * SAMPLE_RATE)
    parsed = m3u8.loads(stream.playlist().decode())
    assert parsed.media_sequence > 40
    assert parsed.discontinuity_sequence == 2
    assert not any(s.discontinuity for s in parsed.segments)


@pytest.mark.parametrize(
    ("elapsed", "expected"), [(-5.0, 2), (0.0, 2), (0.95, 2), (0.97, 3), (96.1, 102)]
)
def test_a_runs_first_segment_comes_from_the_time_since_the_start(
    elapsed: float, expected: int
) -> None:
    assert first_msn_for(elapsed, 0.96) == expected
