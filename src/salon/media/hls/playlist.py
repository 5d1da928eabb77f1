"""LL-HLS media playlists (RFC 8216bis), rendered from plain values.

Pure on purpose: no clock, no I/O, no stream state. ``LiveStream`` describes its window with
these values and a recording's replay describes its files with them, so both kinds of
playlist are tested with plain calls.

URIs are relative to the playlist (``init.mp4``, ``seg{msn}.m4s``, ``part{msn}.{index}.m4s``)
and a live playlist's carry no query: its bytes are the same for every listener (a ticketed
space's credential is a path segment before them). A replay's may carry one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

#: EXT-X-MAP outside an I-frame playlist needs version 6; no low-latency tag asks for more
#: (only EXT-X-SKIP, which we do not emit, needs 9), and a lower version reaches more players.
VERSION = 6
INIT_URI = "init.mp4"
#: RFC 8216bis 6.2.2: EXT-X-PART tags go once they are more than three target durations from
#: the end of the playlist.
PART_LIFETIME_TARGETS = 3


def segment_uri(msn: int) -> str:
    return f"seg{msn}.m4s"


def chunk_uri(first: int, last: int) -> str:
    """A replay entry of several consecutive segments, served back to back."""
    return f"seg{first}-{last}.m4s"


def part_uri(msn: int, index: int) -> str:
    return f"part{msn}.{index}.m4s"


@dataclass(frozen=True, slots=True)
class PartInfo:
    """One partial segment: its duration in seconds and whether it starts a sync sample."""

    duration: float
    independent: bool = True


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """One finished media segment and the parts it was published as (may be empty)."""

    msn: int
    duration: float
    parts: tuple[PartInfo, ...] = ()
    program_date_time: datetime | None = None
    #: Consecutive segments from ``msn`` this entry stands for (a replay joins several).
    count: int = 1

    @property
    def uri(self) -> str:
        return segment_uri(self.msn) if self.count == 1 else chunk_uri(self.msn, self.last_msn)

    @property
    def last_msn(self) -> int:
        return self.msn + self.count - 1


@dataclass(frozen=True, slots=True)
class LivePlaylist:
    """What a live media playlist says at one moment.

    ``segments`` are the finished segments in the window, oldest first and consecutive;
    ``open_msn``/``open_parts`` the segment being produced and its parts so far;
    ``preload_hint`` the (msn, part index) a player may request before it exists. Once
    ``ended``, the playlist carries EXT-X-ENDLIST and no preload hint (RFC 8216bis 4.4.5.3).
    """

    segments: Sequence[SegmentInfo]
    open_msn: int
    open_parts: Sequence[PartInfo]
    target_duration: int
    part_target: float
    open_program_date_time: datetime | None = None
    preload_hint: tuple[int, int] | None = None
    part_hold_back: float | None = None  # None: three part targets, the spec's SHOULD
    ended: bool = False
    #: Discontinuities before this window's first segment, plus one if ``discontinuity_msn``
    #: is in the window: the count of discontinuities up to and including that segment.
    discontinuity_sequence: int = 0
    #: A segment that starts after a discontinuity (the audio restarted), or None.
    discontinuity_msn: int | None = None


def render_live(playlist: LivePlaylist) -> str:
    """The live media playlist, parts near the live edge, as text ending in a newline."""
    _check_live(playlist)
    hold_back = playlist.part_hold_back
    if hold_back is None:
        hold_back = 3 * playlist.part_target
    segments = playlist.segments
    media_sequence = segments[0].msn if segments else playlist.open_msn
    # The discontinuity sequence counts the tags that have left the playlist: one fewer
    # while the tagged segment is still listed (RFC 8216bis 4.4.3.3, 6.2.2).
    tagged = playlist.discontinuity_msn
    listed = tagged is not None and media_sequence <= tagged <= playlist.open_msn
    discontinuity_sequence = playlist.discontinuity_sequence - (1 if listed else 0)
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{VERSION}",
        f"#EXT-X-TARGETDURATION:{playlist.target_duration}",
        f"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK={_decimal(hold_back)}",
        f"#EXT-X-PART-INF:PART-TARGET={_decimal(playlist.part_target)}",
        f"#EXT-X-MEDIA-SEQUENCE:{media_sequence}",
    ]
    if discontinuity_sequence:
        lines.append(f"#EXT-X-DISCONTINUITY-SEQUENCE:{discontinuity_sequence}")
    lines += [
        "#EXT-X-INDEPENDENT-SEGMENTS",
        f'#EXT-X-MAP:URI="{INIT_URI}"',
    ]
    # Parts are listed for segments that start within three target durations of the end.
    end = sum(s.duration for s in segments) + sum(p.duration for p in playlist.open_parts)
    horizon = end - PART_LIFETIME_TARGETS * playlist.target_duration
    start = 0.0
    for segment in segments:
        if segment.msn == tagged:
            lines.append("#EXT-X-DISCONTINUITY")
        if segment.program_date_time is not None:
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{_date_time(segment.program_date_time)}")
        if start >= horizon - 1e-9:
            lines += _part_lines(segment.msn, segment.parts)
        lines += [f"#EXTINF:{_decimal(segment.duration)},", segment_uri(segment.msn)]
        start += segment.duration
    if playlist.open_parts:
        if playlist.open_msn == tagged:
            lines.append("#EXT-X-DISCONTINUITY")
        if playlist.open_program_date_time is not None:
            date_time = _date_time(playlist.open_program_date_time)
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{date_time}")
        lines += _part_lines(playlist.open_msn, playlist.open_parts)
    if playlist.ended:
        lines.append("#EXT-X-ENDLIST")
    elif playlist.preload_hint is not None:
        uri = part_uri(*playlist.preload_hint)
        lines.append(f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="{uri}"')
    return "\n".join(lines) + "\n"


def render_vod(
    segments: Sequence[SegmentInfo], query: str = "", target_duration: int | None = None
) -> str:
    """A complete on-demand playlist (a recording's replay): all segments, no parts.

    Segment URIs keep their own sequence numbers; a hole in them (a lost file) is marked
    with EXT-X-DISCONTINUITY so players reset their timeline there instead of stalling.
    """
    if target_duration is None:
        target_duration = max((target_duration_for(s.duration) for s in segments), default=1)
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{VERSION}",
        f"#EXT-X-TARGETDURATION:{max(target_duration, 1)}",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        f"#EXT-X-MEDIA-SEQUENCE:{segments[0].msn if segments else 0}",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        f'#EXT-X-MAP:URI="{_uri(INIT_URI, query)}"',
    ]
    previous: int | None = None
    for segment in segments:
        if previous is not None and segment.msn != previous + 1:
            lines.append("#EXT-X-DISCONTINUITY")
        if segment.program_date_time is not None:
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{_date_time(segment.program_date_time)}")
        lines += [f"#EXTINF:{_decimal(segment.duration)},", _uri(segment.uri, query)]
        previous = segment.last_msn
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def _check_live(playlist: LivePlaylist) -> None:
    """Refuse windows a player would misread, rather than emit them."""
    expected = playlist.open_msn - len(playlist.segments)
    for segment in playlist.segments:
        if segment.msn != expected:
            raise ValueError(f"segment {segment.msn} out of order (expected {expected})")
        if target_duration_for(segment.duration) > playlist.target_duration:
            raise ValueError(f"segment {segment.msn} is longer than the target duration")
        expected += 1
    every_part = [p for s in playlist.segments for p in s.parts] + list(playlist.open_parts)
    if any(p.duration > playlist.part_target + 1e-9 for p in every_part):
        raise ValueError("a part is longer than the part target")
    if playlist.part_hold_back is not None and playlist.part_hold_back < 2 * playlist.part_target:
        raise ValueError("PART-HOLD-BACK must be at least twice the part target")


def _part_lines(msn: int, parts: Sequence[PartInfo]) -> list[str]:
    lines = []
    for index, part in enumerate(parts):
        attributes = f'DURATION={_decimal(part.duration)},URI="{part_uri(msn, index)}"'
        if part.independent:
            attributes += ",INDEPENDENT=YES"
        lines.append(f"#EXT-X-PART:{attributes}")
    return lines


def _uri(uri: str, query: str) -> str:
    query = query.removeprefix("?")
    return f"{uri}?{query}" if query else uri


def _decimal(seconds: float) -> str:
    """Seconds with at most six decimals and no trailing zeros (``0.192``, ``1.0``)."""
    text = f"{seconds:.6f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def target_duration_for(seconds: float) -> int:
    """The smallest EXT-X-TARGETDURATION a segment this long allows (at least 1).

    RFC 8216bis 4.4.3.1 compares each EXTINF, rounded to the nearest integer, with it.
    """
    return max(1, math.floor(seconds + 0.5))


def _date_time(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
