"""A recorded space's media on disk, and the on-demand playlist that replays it.

The directory holds ``init.mp4`` and one ``seg{msn}.m4s`` per segment, each the concatenation
of its parts exactly as listeners received them, so replay serves the same bytes as live.
Durations are read back from the fragments themselves, so a recording survives a restart
without any index file.

Next to the media, ``timeline.jsonl`` says when each run's audio began (its program
date-time) and who was speaking when, one JSON line per fact, appended as they happen:
``{"run": first_msn, "at": iso}`` and ``{"at": iso, "speaking": [user ids]}``.
The replay playlist joins up to ``CHUNK_SEGMENTS`` consecutive segments into one entry
(``seg{first}-{last}.m4s``, the files served back to back), so a three-hour recording's
playlist stays small.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from salon.media.hls import fmp4
from salon.media.hls.playlist import INIT_URI, SegmentInfo, render_vod, segment_uri
from salon.media.hls.stream import SEGMENT_SECONDS
from salon.media.pcm import SAMPLE_RATE

log = logging.getLogger(__name__)

_SEGMENT_FILE = re.compile(r"^seg(\d+)\.m4s$")
_CHUNK_NAME = re.compile(r"^seg(\d+)-(\d+)\.m4s$")
TIMELINE = "timeline.jsonl"
#: Segments joined into one replay playlist entry: about 9.6 s of audio each.
CHUNK_SEGMENTS = 10


class Recorder:
    """Writes a live stream's parts into ``directory`` as they are published.

    Use ``recorder.on_part`` as the stream's part hook. Writes are small appends (one part,
    about 1.5 KB every 192 ms) made on the caller's thread. Files are named by the live
    stream's own media sequence numbers, which never repeat within a space's life: after a
    restart the new run's segments follow the old ones with a gap, which the replay playlist
    marks as a discontinuity.
    """

    def __init__(self, directory: Path, init: bytes) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / INIT_URI).write_bytes(init)
        self.directory = directory
        self._segments = {info.msn: info for info in read_recording(directory)}

    def begin_run(self, first_msn: int, at: datetime) -> None:
        """Note that a run's audio starts at segment ``first_msn`` at the moment ``at``; nobody
        speaks yet (whoever spoke when the previous run stopped has stopped)."""
        self._note({"run": first_msn, "at": at.isoformat()})
        self._note({"at": at.isoformat(), "speaking": []})

    def on_speaking(self, at: datetime, user_ids: list[int]) -> None:
        """Note who speaks from ``at`` on (called when the set changes)."""
        self._note({"at": at.isoformat(), "speaking": sorted(user_ids)})

    def _note(self, fact: dict[str, object]) -> None:
        with (self.directory / TIMELINE).open("a", encoding="utf-8") as file:
            file.write(json.dumps(fact, separators=(",", ":")) + "\n")

    def on_part(self, msn: int, index: int, data: bytes) -> None:
        """Append one part to its segment's file (the first part starts the file afresh)."""
        path = self.directory / segment_uri(msn)
        with path.open("wb" if index == 0 else "ab") as file:
            file.write(data)
        previous = self._segments.get(msn) if index else None
        samples = fmp4.fragment_samples(data)
        duration = samples / SAMPLE_RATE + (previous.duration if previous else 0.0)
        self._segments[msn] = SegmentInfo(msn=msn, duration=duration)

    def segments(self) -> list[SegmentInfo]:
        return [self._segments[msn] for msn in sorted(self._segments)]

    def playlist(self, query: str = "") -> str:
        """The replay playlist as recorded so far."""
        return vod_playlist(self.directory, query)


def read_recording(directory: Path) -> list[SegmentInfo]:
    """Every segment file in ``directory`` with its duration, in order.

    Reads each file once; callers serving replays should keep the result.
    """
    found: list[SegmentInfo] = []
    if not directory.is_dir():
        return found
    for path in directory.iterdir():
        match = _SEGMENT_FILE.match(path.name)
        if match is None:
            continue
        try:
            samples = fmp4.fragment_samples(path.read_bytes())
        except ValueError:
            # Cut short by a crash mid-write: players could not decode it either.
            log.warning("skipping damaged recording segment %s", path)
            continue
        if samples:
            found.append(SegmentInfo(msn=int(match.group(1)), duration=samples / SAMPLE_RATE))
    return sorted(found, key=lambda info: info.msn)


_INDEX: dict[Path, tuple[tuple[int, int], list[SegmentInfo]]] = {}
_INDEX_KEPT = 64


def recording_segments(directory: Path) -> list[SegmentInfo]:
    """``read_recording``, kept while the folder is unchanged (a finished recording is read
    once, not on every playlist request: three hours are 11,250 files). A new file changes the
    folder's mtime; only the last segment still grows, so its size is checked too."""
    try:
        folder = directory.stat().st_mtime_ns
    except FileNotFoundError:
        _INDEX.pop(directory, None)
        return []
    kept = _INDEX.get(directory)
    if kept is not None and kept[0][0] == folder:
        last = kept[1][-1].msn if kept[1] else None
        try:
            size = (directory / segment_uri(last)).stat().st_size if last is not None else 0
        except FileNotFoundError:
            size = -1
        if size == kept[0][1]:
            return kept[1]
    segments = read_recording(directory)
    size = (directory / segment_uri(segments[-1].msn)).stat().st_size if segments else 0
    if len(_INDEX) >= _INDEX_KEPT:
        _INDEX.pop(next(iter(_INDEX)))
    _INDEX[directory] = ((folder, size), segments)
    return segments


def vod_playlist(directory: Path, query: str = "", segment_seconds: float = SEGMENT_SECONDS) -> str:
    """The replay playlist (EXT-X-PLAYLIST-TYPE:VOD) for a recording directory: entries of
    joined segments, each run's first entry with its EXT-X-PROGRAM-DATE-TIME."""
    joined = chunks(recording_segments(directory))
    runs = sorted(read_timeline(directory).runs)
    dated: list[SegmentInfo] = []
    previous: SegmentInfo | None = None
    for entry in joined:
        if previous is None or entry.msn != previous.last_msn + 1:
            run = next((r for r in reversed(runs) if r[0] <= entry.msn), None)
            if run is not None:
                start = run[1] + timedelta(seconds=(entry.msn - run[0]) * segment_seconds)
                entry = replace(entry, program_date_time=start)
        dated.append(entry)
        previous = entry
    return render_vod(dated, query)


def chunks(segments: list[SegmentInfo]) -> list[SegmentInfo]:
    """Consecutive segments joined in groups aligned on ``CHUNK_SEGMENTS`` (so a name always
    means the same files), each as one entry whose ``msn`` is its first segment's and whose
    name is ``chunk_uri(first, last)``. Holes stay holes (a discontinuity in the playlist)."""
    joined: list[SegmentInfo] = []
    for segment in segments:
        last = joined[-1] if joined else None
        if (
            last is not None
            and segment.msn == last.msn + last.count
            and segment.msn // CHUNK_SEGMENTS == last.msn // CHUNK_SEGMENTS
        ):
            joined[-1] = SegmentInfo(
                msn=last.msn, duration=last.duration + segment.duration, count=last.count + 1
            )
        else:
            joined.append(SegmentInfo(msn=segment.msn, duration=segment.duration))
    return joined


def chunk_files(directory: Path, name: str) -> list[Path] | None:
    """The segment files a replay entry's name stands for, or None if it names none (a
    single ``seg{n}.m4s``, or ``seg{first}-{last}.m4s`` within one aligned group, every file
    present)."""
    single = _SEGMENT_FILE.match(name)
    if single is not None:
        path = directory / name
        return [path] if path.is_file() else None
    match = _CHUNK_NAME.match(name)
    if match is None:
        return None
    first, last = int(match.group(1)), int(match.group(2))
    if not first < last or first // CHUNK_SEGMENTS != last // CHUNK_SEGMENTS:
        return None
    paths = [directory / segment_uri(msn) for msn in range(first, last + 1)]
    return paths if all(path.is_file() for path in paths) else None


@dataclass(frozen=True, slots=True)
class Timeline:
    """What ``timeline.jsonl`` says: when each run began, and who spoke from when."""

    runs: list[tuple[int, datetime]]
    speaking: list[tuple[datetime, frozenset[int]]]


def read_timeline(directory: Path) -> Timeline:
    """The recording's sidecar facts (lines cut short by a crash are skipped)."""
    runs: list[tuple[int, datetime]] = []
    speaking: list[tuple[datetime, frozenset[int]]] = []
    path = directory / TIMELINE
    if not path.is_file():
        return Timeline(runs, speaking)
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            fact = json.loads(line)
            at = datetime.fromisoformat(fact["at"])
            if "run" in fact:
                runs.append((int(fact["run"]), at))
            else:
                speaking.append((at, frozenset(int(u) for u in fact["speaking"])))
        except (ValueError, KeyError, TypeError):
            log.warning("skipping a damaged line of %s", path)
    return Timeline(runs, speaking)


def recorded_msns(directory: Path) -> list[int]:
    """The media sequence numbers of the segments on disk, in order (names only: cheap)."""
    if not directory.is_dir():
        return []
    return sorted(
        int(match.group(1))
        for path in directory.iterdir()
        if (match := _SEGMENT_FILE.match(path.name)) is not None
    )


def gap_seconds(msns: list[int], segment_seconds: float) -> float:
    """Audio missing from a recording: the segments its sequence numbers skip (while its
    media restarted or moved to another node), in seconds."""
    return sum(
        (later - earlier - 1) * segment_seconds
        for earlier, later in itertools.pairwise(msns)
        if later > earlier + 1
    )
