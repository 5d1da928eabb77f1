"""A recorded space's media on disk, and the on-demand playlist that replays it.

The directory holds ``init.mp4`` and one ``seg{msn}.m4s`` per segment, each the concatenation
of its parts exactly as listeners received them, so replay serves the same bytes as live.
Durations are read back from the fragments themselves, so a recording survives a restart
without any index file.
"""

from __future__ import annotations

import itertools
import logging
import re
from pathlib import Path

from salon.media.hls import fmp4
from salon.media.hls.playlist import INIT_URI, SegmentInfo, render_vod, segment_uri
from salon.media.pcm import SAMPLE_RATE

log = logging.getLogger(__name__)

_SEGMENT_FILE = re.compile(r"^seg(\d+)\.m4s$")


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
        return render_vod(self.segments(), query)


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


def vod_playlist(directory: Path, query: str = "") -> str:
    """The replay playlist (EXT-X-PLAYLIST-TYPE:VOD) for a recording directory."""
    return render_vod(read_recording(directory), query)


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
