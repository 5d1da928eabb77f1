"""One live space's LL-HLS output: program audio in, init/parts/segments/playlist out.

Timing defaults, chosen so a listener hears speech about one second after it is said:

- a **part** is 9 AAC frames = 9216 samples = 192 ms (``PART-TARGET=0.192``);
- a **segment** is 5 parts = 0.96 s (``EXT-X-TARGETDURATION:1``);
- ``PART-HOLD-BACK`` is three part targets = 0.576 s, the spec's SHOULD. A low-latency player
  plays that far behind the newest part, so speech reaches it after roughly the hold-back,
  plus up to one part of packaging, plus the encoder's 21 ms and the network: ~0.9 s;
- the playlist lists the last 30 s of segments; media stays fetchable for one more window
  after leaving it (RFC 8216bis 6.2.2 asks for at least the segment's duration plus the
  playlist's).

A segment's bytes are its parts' fragments concatenated, so the two are the same media and a
cache may hold either. Everything here runs on the event loop thread: ``push`` is called by
the mixer clock every 20 ms and ``wait_for`` by HTTP handlers.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from salon.clock import Clock, SystemClock
from salon.media.hls import fmp4
from salon.media.hls.encoder import AAC_FRAME_SAMPLES, DEFAULT_BIT_RATE, AacEncoder, AacFrame
from salon.media.hls.playlist import (
    LivePlaylist,
    PartInfo,
    SegmentInfo,
    render_live,
    target_duration_for,
)
from salon.media.pcm import SAMPLE_RATE, Pcm

log = logging.getLogger(__name__)

DEFAULT_PART_FRAMES = 9
DEFAULT_SEGMENT_PARTS = 5
DEFAULT_WINDOW_SECONDS = 30.0
CHANNELS = 1
#: How often waiters are woken to check their deadlines while nothing is published.
ALARM_SECONDS = 0.25
#: A segment's duration with the default timing (5 parts of 9 AAC frames).
SEGMENT_SECONDS = DEFAULT_SEGMENT_PARTS * DEFAULT_PART_FRAMES * AAC_FRAME_SAMPLES / SAMPLE_RATE

#: Called with (msn, part index, fragment bytes) as each part is published, e.g. to record.
PartHook = Callable[[int, int, bytes], None]
#: Called once by ``LiveStream.watch``: True when what was waited for exists (or the stream
#: ended), False when the wait's deadline passed first.
Watcher = Callable[[bool], None]


class ReloadRefused(Exception):
    """A blocking playlist reload that will not be answered with a playlist."""

    def __init__(self, msn: int, part: int | None, detail: str) -> None:
        super().__init__(detail)
        self.msn = msn
        self.part = part
        self.detail = detail


class TooFarAhead(ReloadRefused):
    """RFC 8216bis 6.2.5.2: more than two segments, or the Advance Part Limit, past the end.

    The spec's answer is Bad Request (HTTP 400), at once.
    """


class Timeout(ReloadRefused):
    """The requested part did not appear within the wait (three target durations).

    The spec's answer is Service Unavailable (HTTP 503).
    """


@dataclass(slots=True)
class _Segment:
    msn: int
    start: int  # first sample on the stream timeline
    parts: list[bytes] = field(default_factory=list)
    part_samples: list[int] = field(default_factory=list)

    @property
    def samples(self) -> int:
        return sum(self.part_samples)


class LiveStream:
    """The LL-HLS state of one live space: a bounded window of parts and segments.

    ``push`` feeds program audio of any length; whole parts are published as soon as enough
    AAC frames exist, and every publication wakes blocked playlist reloads. ``end`` flushes
    the encoder, publishes the tail and makes every later playlist carry EXT-X-ENDLIST.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        part_frames: int = DEFAULT_PART_FRAMES,
        segment_parts: int = DEFAULT_SEGMENT_PARTS,
        window: float = DEFAULT_WINDOW_SECONDS,
        bit_rate: int = DEFAULT_BIT_RATE,
        on_part: PartHook | None = None,
        first_msn: int = 0,
        run: int = 0,
    ) -> None:
        """``first_msn`` numbers this run's first segment and places its media time (a run
        starting at segment N starts at N segment durations); ``run`` counts the runs before
        this one, so a later run opens with EXT-X-DISCONTINUITY (see ``first_msn_for``)."""
        if part_frames < 1 or segment_parts < 1 or window <= 0:
            raise ValueError("parts, segments and the window must be positive")
        if first_msn < 0 or run < 0:
            raise ValueError("the first media sequence number and the run are not negative")
        self._clock = clock or SystemClock()
        self._part_frames = part_frames
        self._segment_parts = segment_parts
        #: Settable after construction, e.g. to a ``Recorder`` made with this stream's init.
        self.on_part = on_part
        self._encoder = AacEncoder(bit_rate)
        self.init: bytes = fmp4.init_segment(
            self._encoder.audio_specific_config, SAMPLE_RATE, CHANNELS
        )
        self.part_target: float = part_frames * AAC_FRAME_SAMPLES / SAMPLE_RATE
        self.segment_duration: float = self.part_target * segment_parts
        self.target_duration: int = target_duration_for(self.segment_duration)
        self.part_hold_back: float = 3 * self.part_target
        # Never fewer segments than three target durations: RFC 8216bis 6.2.2.
        least = math.ceil(3 * self.target_duration / self.segment_duration) + 1
        self.window_segments: int = max(math.ceil(window / self.segment_duration), least)
        self._kept_segments = 2 * self.window_segments
        self.first_msn = first_msn
        self.run = run
        segment_samples = part_frames * AAC_FRAME_SAMPLES * segment_parts
        #: Stream time of this run's first sample: runs never overlap on the timeline.
        self._base = first_msn * segment_samples
        self._segments: deque[_Segment] = deque()
        self._open = _Segment(msn=first_msn, start=self._base)
        self._frames: list[AacFrame] = []
        self._epoch: datetime | None = None
        self._ended = False
        #: Blocked requests: (msn, part, deadline, watcher), told at the next publication
        #: that has what they wait for, or by the one alarm that checks their deadlines.
        self._watchers: list[tuple[int, int | None, float, Watcher]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._telling: asyncio.Handle | None = None
        self._alarm: asyncio.TimerHandle | None = None
        self._described: LivePlaylist | None = None
        self._rendered: bytes | None = None

    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def advance_part_limit(self) -> float:
        """RFC 8216bis 6.2.5.2: 3 / part target for parts under a second, else 3."""
        return 3 / self.part_target if self.part_target < 1 else 3.0

    @property
    def preload_hint(self) -> tuple[int, int] | None:
        """The part a player may ask for before it exists; None once ended."""
        return None if self._ended else (self._open.msn, len(self._open.parts))

    def push(self, pcm: Pcm) -> None:
        """Feed program audio (48 kHz mono int16, any length); publish parts that fill up."""
        if self._ended:
            raise RuntimeError("the stream has ended and takes no more audio")
        if self._epoch is None:
            self._epoch = self._clock.now()
        for frame in self._encoder.encode(pcm):
            self._add(frame)

    def end(self) -> None:
        """Publish what is left, close the last segment, and release every waiter."""
        if self._ended:
            return
        for frame in self._encoder.flush():
            self._add(frame)
        if self._frames:
            self._publish_part()
        if self._open.parts:
            self._close_segment()
        self._ended = True
        self._changed()

    def part(self, msn: int, index: int) -> bytes | None:
        """A published part still kept in memory, else None."""
        segment = self._find(msn)
        if segment is None or not 0 <= index < len(segment.parts):
            return None
        return segment.parts[index]

    def segment(self, msn: int) -> bytes | None:
        """A finished segment still kept in memory, else None."""
        segment = self._find(msn)
        if segment is None or segment is self._open:
            return None
        return b"".join(segment.parts)

    def is_upcoming(self, msn: int, index: int) -> bool:
        """Whether (msn, index) is the preload-hinted part, which a request may wait for."""
        return self.preload_hint == (msn, index)

    def describe(self) -> LivePlaylist:
        """The current playlist as values (cached until the next publication)."""
        if self._described is None:
            shown = list(self._segments)[-self.window_segments :]
            self._described = LivePlaylist(
                segments=[
                    SegmentInfo(
                        msn=s.msn,
                        duration=s.samples / SAMPLE_RATE,
                        parts=self._part_infos(s),
                        program_date_time=self._date_time(s.start),
                    )
                    for s in shown
                ],
                open_msn=self._open.msn,
                open_parts=self._part_infos(self._open),
                open_program_date_time=self._date_time(self._open.start),
                target_duration=self.target_duration,
                part_target=self.part_target,
                preload_hint=self.preload_hint,
                part_hold_back=self.part_hold_back,
                ended=self._ended,
                discontinuity_sequence=self.run,
                discontinuity_msn=self.first_msn if self.run else None,
            )
        return self._described

    def playlist(self) -> bytes:
        """The live media playlist as served (UTF-8), rendered once per publication: every
        listener asking between two publications gets these same bytes."""
        if self._rendered is None:
            self._rendered = render_live(self.describe()).encode()
        return self._rendered

    # The spec bounds the wait itself (503 after three target durations), so the bound is
    # part of this call's contract rather than the caller's asyncio.timeout.
    async def wait_for(
        self,
        msn: int,
        part: int | None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> None:
        """Return once the playlist holds segment ``msn`` (or part ``part`` of it), or later.

        Blocking playlist reload, RFC 8216bis 6.2.5.2. Returns at once when that is already
        so or the stream has ended (an ENDLIST playlist ignores the directives); raises
        ``TooFarAhead`` at once for a request past the spec's limits and ``Timeout`` after
        ``timeout`` seconds (default: three target durations).
        """
        waited: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def tell(ready: bool) -> None:
            if not waited.done():  # a cancelled wait leaves its watcher to lapse
                waited.set_result(ready)

        if self.watch(msn, part, tell, timeout):
            return
        if not await waited:
            raise Timeout(msn, part, f"not published within {self._timeout(timeout):g} s")

    def watch(
        self,
        msn: int,
        part: int | None,
        watcher: Watcher,
        timeout: float | None = None,
    ) -> bool:
        """``wait_for`` without a task: True if segment ``msn`` (or its part ``part``) is
        there now or the stream has ended, and ``watcher`` is not called; else False, and
        ``watcher`` is called once, on the event loop, with True when it is published (or the
        stream ends) or False when ``timeout`` passes first. Raises ``TooFarAhead`` at once.

        What the HTTP server's hot path waits with (``api/hls_protocol.py``): a player that
        keeps up waits ten times a second, and a callback costs less than a task.
        """
        if msn < 0 or (part is not None and part < 0):
            raise ValueError("media sequence numbers and part indexes are not negative")
        if self._ended:
            return True
        if part is not None and part >= self._segment_parts:
            msn, part = msn + 1, 0  # past a segment's last part means the next segment's first
        self._check_not_too_far(msn, part)
        if self._has(msn, part):
            return True
        loop = self._loop = asyncio.get_running_loop()
        self._watchers.append((msn, part, loop.time() + self._timeout(timeout), watcher))
        if self._alarm is None:
            self._alarm = loop.call_later(ALARM_SECONDS, self._ring)
        return False

    def _timeout(self, timeout: float | None) -> float:
        return 3 * self.target_duration if timeout is None else timeout

    def _ring(self) -> None:
        """The watchers' shared alarm: tell those whose deadline passed (a stalled stream).
        One timer per stream, not one per request."""
        self._alarm = None
        self._tell()
        if self._watchers and self._loop is not None:
            self._alarm = self._loop.call_later(ALARM_SECONDS, self._ring)

    def _tell(self) -> None:
        """Call every watcher whose part exists (or whose deadline passed); keep the rest."""
        self._telling = None
        if not self._watchers or self._loop is None:
            return
        now = self._loop.time()
        waiting: list[tuple[int, int | None, float, Watcher]] = []
        told: list[tuple[Watcher, bool]] = []
        for entry in self._watchers:
            msn, part, deadline, watcher = entry
            if self._ended or self._has(msn, part):
                told.append((watcher, True))
            elif now >= deadline:
                told.append((watcher, False))
            else:
                waiting.append(entry)
        self._watchers = waiting
        for watcher, ready in told:
            try:
                watcher(ready)
            except Exception:
                log.exception("a watcher of the live stream failed")

    def _has(self, msn: int, part: int | None) -> bool:
        if msn < self._open.msn:
            return True
        return part is not None and msn == self._open.msn and part < len(self._open.parts)

    def _check_not_too_far(self, msn: int, part: int | None) -> None:
        last_msn = self._open.msn - 1  # the last finished segment
        if msn > last_msn + 2:
            raise TooFarAhead(msn, part, f"segment {msn} is past {last_msn} + 2")
        if part is not None:
            last_part = self._open.msn * self._segment_parts + len(self._open.parts) - 1
            wanted = msn * self._segment_parts + part
            if wanted - last_part > self.advance_part_limit:
                raise TooFarAhead(msn, part, f"part {msn}.{part} is past the advance part limit")

    def _add(self, frame: AacFrame) -> None:
        self._frames.append(frame)
        if len(self._frames) == self._part_frames:
            self._publish_part()

    def _publish_part(self) -> None:
        frames, self._frames = self._frames, []
        segment = self._open
        index = len(segment.parts)
        # mfhd numbers fragments in order across runs too, from the part's place in the stream.
        sequence = segment.msn * self._segment_parts + index + 1
        data = fmp4.fragment(sequence, self._base + frames[0].pts, [f.data for f in frames])
        segment.parts.append(data)
        segment.part_samples.append(sum(f.duration for f in frames))
        if len(segment.parts) == self._segment_parts:
            self._close_segment()
        self._changed()
        if self.on_part is not None:
            try:
                self.on_part(segment.msn, index, data)
            except Exception:
                # A failing recorder must not silence the live stream.
                log.exception("part hook failed for part %d.%d", segment.msn, index)

    def _close_segment(self) -> None:
        finished = self._open
        self._segments.append(finished)
        while len(self._segments) > self._kept_segments:
            self._segments.popleft()
        self._open = _Segment(msn=finished.msn + 1, start=finished.start + finished.samples)

    def _changed(self) -> None:
        self._described = None
        self._rendered = None
        # Soon, not now: the mixer's tick publishes, and answering the waiting players is
        # the event loop's next job rather than part of that tick.
        if self._watchers and self._telling is None and self._loop is not None:
            self._telling = self._loop.call_soon(self._tell)

    def _find(self, msn: int) -> _Segment | None:
        if msn == self._open.msn:
            return self._open
        if not self._segments:
            return None
        position = msn - self._segments[0].msn
        return self._segments[position] if 0 <= position < len(self._segments) else None

    def _part_infos(self, segment: _Segment) -> tuple[PartInfo, ...]:
        return tuple(PartInfo(samples / SAMPLE_RATE) for samples in segment.part_samples)

    def _date_time(self, start: int) -> datetime | None:
        """Wall time of stream sample ``start``: input sample 0 arrived at the first push."""
        if self._epoch is None:
            return None
        offset = start - self._base - self._encoder.priming
        return self._epoch + timedelta(seconds=offset / SAMPLE_RATE)


def first_msn_for(elapsed: float, segment_duration: float) -> int:
    """The first media sequence number of a run starting ``elapsed`` seconds into a space.

    A run never produces audio ahead of real time (the mixer's clock catches up with the
    wall clock after a busy moment, or skips ahead, never past it), so an earlier run cannot
    have reached segment ``elapsed / segment_duration + 1``; starting two past that leaves a
    margin for clocks of different nodes, and no media name is ever reused within the
    space's life.
    """
    return max(0, math.floor(max(elapsed, 0.0) / segment_duration) + 2)
