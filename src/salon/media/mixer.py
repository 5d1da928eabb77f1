"""The per-space mixer: one frame from every speaker per clock tick, never waiting for packets.

The caller (the room's 20 ms clock) calls ``tick()``; decoders call ``push()`` whenever audio
arrives. Because the clock drives the mix, a late, silent or vanished speaker contributes
silence and can never stall what everyone else hears. Mute is enforced here, server-side: a
muted speaker's audio is discarded before it reaches any output.

No asyncio and no I/O, so it is tested with plain calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from salon.media.levels import dbfs_from_mean_square
from salon.media.pcm import FRAME_SAMPLES, Pcm
from salon.metrics import MIXER_DROPPED_FRAMES, MIXER_PLAYOUT_GROWN, MIXER_UNDERRUNS

#: Jitter-buffer bound per input (200 ms). Only a burst longer than this loses audio (the
#: OLDEST is dropped); the playout delay itself is kept down by the drain below, not by this
#: bound, so a burst of a few frames (a busy sender, a reordered run) plays out whole.
MAX_BUFFERED_FRAMES = 10

#: Ticks over which a buffer's low-water mark is watched (1 s). Frames its lowest point held
#: beyond the input's playout margin are standing delay, not jitter protection, and are dropped.
DRAIN_WINDOW_TICKS = 50

#: A standing frame is dropped only when it is quiet (below this level: a pause between words),
#: so draining is not heard as a hole in a word...
DRAIN_QUIET_DBFS = -50.0
#: ... unless no quiet frame came for this long (5 s of talk without a pause).
DRAIN_PATIENCE_TICKS = 250

#: The playout margin: whole frames an input keeps buffered at its low point. It starts at 0
#: (a frame is played as soon as it is whole: the least delay on a clean link), grows by one
#: each time the input runs dry while sending (its audio came late: jitter), up to this many
#: (80 ms), and shrinks by one after ``MARGIN_DECAY_TICKS`` without running dry (2 s): a
#: clean link that ran dry once gets its least delay back soon. Running dry again within
#: ``MARGIN_RECUR_TICKS`` (10 s) doubles that hold, up to ``MAX_MARGIN_HOLD_TICKS`` (30 s):
#: under lasting jitter the margin stays (measured: a 2 s hold alone cost 0.4 PESQ-WB).
MAX_MARGIN_FRAMES = 4
MARGIN_DECAY_TICKS = 100
MARGIN_RECUR_TICKS = 500
MAX_MARGIN_HOLD_TICKS = 1500

#: An input that pushed audio within this many ticks is "sending": a tick that finds its
#: buffer short of a frame is an underrun (silence mixed where audio was due).
SENDING_TICKS = 10

_INT16_MIN = int(np.iinfo(np.int16).min)
_INT16_MAX = int(np.iinfo(np.int16).max)
#: Mean square (int16 units) of a frame at DRAIN_QUIET_DBFS.
_QUIET_MEAN_SQUARE = (32768.0 * 10 ** (DRAIN_QUIET_DBFS / 20)) ** 2

Frames = npt.NDArray[np.int32]

_OVERFLOW = MIXER_DROPPED_FRAMES.labels(reason="overflow")
_DRAIN = MIXER_DROPPED_FRAMES.labels(reason="drain")


@dataclass(slots=True)
class BufferCounts:
    """What one input's buffer did, for the metrics and the tests (samples and ticks)."""

    overflow_samples: int = 0
    drained_frames: int = 0
    underruns: int = 0
    grown: int = 0


@dataclass(frozen=True, slots=True)
class Mix:
    """One tick's output. The arrays are fresh each tick and belong to the caller.

    ``program``: every unmuted input summed, what listeners hear.
    ``minus[i]``: everyone but input ``i``, what speaker ``i`` hears (no echo of themselves).
    ``levels[i]``: input ``i``'s own level this frame in dBFS; the floor (-127.0, see levels.py)
    when muted, silent or late.
    """

    program: Pcm
    minus: dict[int, Pcm]
    levels: dict[int, float]


class _JitterBuffer:
    """One input's adaptive playout buffer: a bounded FIFO of samples in a preallocated int16
    array (no per-push alloc), its margin, and the drain of standing frames beyond it."""

    __slots__ = (
        "_buffer",
        "_calm",
        "_hold",
        "_idle",
        "_low_water",
        "_pending",
        "_playing",
        "_ticks",
        "_waited",
        "counts",
        "fill",
        "margin",
    )

    def __init__(self, capacity: int) -> None:
        self._buffer: Pcm = np.zeros(capacity, dtype=np.int16)
        self.fill = 0
        self._low_water = capacity
        self._ticks = 0
        self._idle = SENDING_TICKS  # ticks since the last push
        self.margin = 0  # whole frames kept at the low point (see MAX_MARGIN_FRAMES)
        self._calm = 0  # ticks since the last underrun
        self._hold = MARGIN_DECAY_TICKS  # calm ticks before the margin shrinks
        self._pending = 0  # standing frames to drop at the next quiet frames
        self._waited = 0  # ticks a pending drop has waited for a quiet frame
        self._playing = False  # the last tick played a frame of this input
        self.counts = BufferCounts()

    def push(self, pcm: Pcm) -> None:
        capacity = self._buffer.shape[0]
        n = pcm.shape[0]
        self._idle = 0
        if n >= capacity:
            self._overflowed(self.fill + n - capacity)
            self._buffer[:] = pcm[n - capacity :]
            self.fill = capacity
            return
        overflow = self.fill + n - capacity
        if overflow > 0:  # drop the oldest samples to make room (numpy handles the overlap)
            self._overflowed(overflow)
            keep = self.fill - overflow
            self._buffer[:keep] = self._buffer[overflow : self.fill]
            self.fill = keep
        self._buffer[self.fill : self.fill + n] = pcm
        self.fill += n

    def take_into(self, row: Frames) -> bool:
        """Move one frame into ``row``; silence (and nothing consumed) if less is buffered."""
        if self.fill < FRAME_SAMPLES:
            row[:] = 0
            if self._playing and self._idle < SENDING_TICKS:  # it was sending: audio is late
                self.counts.underruns += 1
                MIXER_UNDERRUNS.inc()
                recurring = self._calm < MARGIN_RECUR_TICKS and self.counts.underruns > 1
                self._hold = (
                    min(2 * self._hold, MAX_MARGIN_HOLD_TICKS) if recurring else MARGIN_DECAY_TICKS
                )
                self._calm = 0
                if self.margin < MAX_MARGIN_FRAMES:
                    self.margin += 1
                    self.counts.grown += 1
                    MIXER_PLAYOUT_GROWN.inc()
            self._playing = False
            self._idle += 1
            self._watch()
            return False
        if self._pending:
            self._drain()
        row[:] = self._buffer[:FRAME_SAMPLES]
        self._drop(FRAME_SAMPLES)
        self._playing = True
        self._idle += 1
        self._calm += 1
        self._watch()
        return True

    def _drain(self) -> None:
        """Drop standing frames from the head while they are quiet (or patience ran out),
        always leaving a whole frame to play this tick."""
        self._waited += 1
        while self._pending and self.fill >= 2 * FRAME_SAMPLES:
            head = self._buffer[:FRAME_SAMPLES].astype(np.float64)
            quiet = float(np.dot(head, head)) / FRAME_SAMPLES < _QUIET_MEAN_SQUARE
            if not quiet and self._waited < DRAIN_PATIENCE_TICKS:
                return
            self._drop(FRAME_SAMPLES)
            self._pending -= 1
            self.counts.drained_frames += 1
            _DRAIN.inc()
        if not self._pending:
            self._waited = 0

    def _drop(self, samples: int) -> None:
        rest = self.fill - samples
        self._buffer[:rest] = self._buffer[samples : self.fill]
        self.fill = rest

    def _watch(self) -> None:
        """Drain a standing queue: a burst (e.g. at connect) would otherwise delay for good."""
        self._low_water = min(self._low_water, self.fill)
        self._ticks += 1
        if self._ticks >= DRAIN_WINDOW_TICKS:
            standing = self._low_water // FRAME_SAMPLES - self.margin
            self._pending = max(standing, 0)
            if not self._pending:
                self._waited = 0
            if self.margin and self._calm >= self._hold:
                self.margin -= 1
                self._calm = 0
            self._low_water = self._buffer.shape[0]
            self._ticks = 0

    def _overflowed(self, samples: int) -> None:
        self.counts.overflow_samples += samples
        _OVERFLOW.inc(samples / FRAME_SAMPLES)

    def clear(self) -> None:
        self.fill = 0
        self._playing = False


class _Input:
    __slots__ = ("buffer", "muted")

    def __init__(self, capacity: int) -> None:
        self.buffer = _JitterBuffer(capacity)
        self.muted = False


class Mixer:
    """Mixes up to a stage's worth of inputs into a program mix and one mix-minus per input.

    Inputs are keyed by an int id (the speaker's user id). Sums are done in int32 and clipped
    to int16 (saturating, never wrapping). Mix-minus is ``total - own`` per input, one sum and
    N subtractions rather than N sums of N-1 inputs; the working arrays are reused across
    ticks and only re-made when inputs are added or removed.
    """

    def __init__(self, *, max_buffered_frames: int = MAX_BUFFERED_FRAMES) -> None:
        if max_buffered_frames < 1:
            raise ValueError(f"max_buffered_frames must be at least 1, not {max_buffered_frames}")
        self._capacity = max_buffered_frames * FRAME_SAMPLES
        self._inputs: dict[int, _Input] = {}
        self._frames: Frames = np.zeros((0, FRAME_SAMPLES), dtype=np.int32)
        self._work: Frames = np.zeros((0, FRAME_SAMPLES), dtype=np.int32)
        self._total: Frames = np.zeros(FRAME_SAMPLES, dtype=np.int32)

    @property
    def inputs(self) -> tuple[int, ...]:
        return tuple(self._inputs)

    def is_muted(self, input_id: int) -> bool:
        """Whether a known input is muted; KeyError for an unknown one."""
        return self._inputs[input_id].muted

    def buffered(self, input_id: int) -> int:
        """Samples waiting in an input's jitter buffer (0 for an unknown input)."""
        entry = self._inputs.get(input_id)
        return 0 if entry is None else entry.buffer.fill

    def counts(self, input_id: int) -> BufferCounts:
        """What an input's buffer dropped and missed so far (KeyError for an unknown one)."""
        return self._inputs[input_id].buffer.counts

    def add_input(self, input_id: int) -> None:
        """Start mixing an input, unmuted. Adding a present input changes nothing."""
        if input_id in self._inputs:
            return
        self._inputs[input_id] = _Input(self._capacity)
        self._resize()

    def remove_input(self, input_id: int) -> None:
        """Stop mixing an input and drop its audio. Removing an absent input does nothing."""
        if self._inputs.pop(input_id, None) is not None:
            self._resize()

    def set_muted(self, input_id: int, muted: bool) -> None:
        """Mute or unmute; muting discards what is buffered. Unknown inputs are ignored.

        Mute events arrive for everyone in a space, including people with no connection here.
        """
        entry = self._inputs.get(input_id)
        if entry is None:
            return
        entry.muted = muted
        if muted:
            entry.buffer.clear()

    def push(self, input_id: int, pcm: Pcm) -> None:
        """Append decoded 48 kHz mono int16 audio of any length to an input's jitter buffer.

        Audio for an unknown input (not added yet, or already removed) or a muted one is
        dropped. Raises TypeError for anything but a 1-D int16 array: a wrong format is a bug
        upstream, and silently casting it would be heard as noise.
        """
        entry = self._inputs.get(input_id)
        if entry is None or entry.muted:
            return
        if pcm.dtype != np.int16 or pcm.ndim != 1:
            raise TypeError(f"expected 1-D int16 PCM, got {pcm.dtype} with shape {pcm.shape}")
        entry.buffer.push(pcm)

    def tick(self) -> Mix:
        """Take one 960-sample frame from every input and mix. Call once per 20 ms."""
        frames, work, total = self._frames, self._work, self._total
        ids = list(self._inputs)
        for row, entry in enumerate(self._inputs.values()):
            entry.buffer.take_into(frames[row])
        np.sum(frames, axis=0, out=total)
        program = np.clip(total, _INT16_MIN, _INT16_MAX).astype(np.int16)
        np.subtract(total, frames, out=work)
        np.clip(work, _INT16_MIN, _INT16_MAX, out=work)
        minus_rows = work.astype(np.int16)
        mean_squares = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / FRAME_SAMPLES
        minus = {input_id: minus_rows[row] for row, input_id in enumerate(ids)}
        levels = {
            input_id: dbfs_from_mean_square(float(mean_squares[row]))
            for row, input_id in enumerate(ids)
        }
        return Mix(program=program, minus=minus, levels=levels)

    def _resize(self) -> None:
        count = len(self._inputs)
        self._frames = np.zeros((count, FRAME_SAMPLES), dtype=np.int32)
        self._work = np.zeros((count, FRAME_SAMPLES), dtype=np.int32)


def downmix_to_mono(samples: npt.NDArray[np.int16], channels: int) -> Pcm:
    """Down-mix one decoded int16 frame to Salon's mono PCM by averaging its channels.

    ``samples`` is what PyAV's ``AudioFrame.to_ndarray()`` gives, with n samples per channel:

    - ``(1, n * channels)``: packed/interleaved ``s16`` (L R L R ...). aiortc's Opus decoder
      yields this: 48 kHz stereo s16, so shape ``(1, 2n)`` with ``channels=2``;
    - ``(channels, n)``: planar ``s16p``, one row per channel;
    - ``(n * channels,)``: packed samples already flattened.

    ``channels`` is needed because ``(1, 2n)`` stereo looks the same as ``(1, 2n)`` mono.
    Averaging (not summing) keeps a centred voice at its level and cannot clip. The sample
    rate is not changed: Opus decodes at 48 kHz already.
    """
    if samples.dtype != np.int16:
        raise TypeError(f"expected int16 samples, got {samples.dtype}")
    if channels < 1:
        raise ValueError(f"channels must be at least 1, not {channels}")
    if channels == 1:
        return np.ascontiguousarray(samples.reshape(-1))
    if samples.ndim == 2 and samples.shape[0] == channels:
        planar = samples
    elif (samples.ndim == 1 or (samples.ndim == 2 and samples.shape[0] == 1)) and (
        samples.size % channels == 0
    ):
        planar = samples.reshape(-1, channels).T
    else:
        raise ValueError(f"shape {samples.shape} is not a frame of {channels} channels")
    mean: npt.NDArray[np.float32] = planar.mean(axis=0, dtype=np.float32)
    return np.rint(mean).astype(np.int16)
