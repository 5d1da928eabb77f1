"""LL-HLS playlists from plain values, each checked by an independent parser (m3u8)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import m3u8
import pytest

from salon.media.hls.playlist import (
    LivePlaylist,
    PartInfo,
    SegmentInfo,
    render_live,
    render_vod,
    target_duration_for,
)

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
PART = 0.192
FIVE_PARTS = (PartInfo(PART),) * 5


def finished(msn: int, parts: tuple[PartInfo, ...] = FIVE_PARTS) -> SegmentInfo:
    return SegmentInfo(
        msn=msn,
        duration=round(sum(p.duration for p in parts), 6),
        parts=parts,
        program_date_time=START + timedelta(seconds=0.96 * msn),
    )


def live(first: int = 10, count: int = 6, open_parts: int = 2) -> LivePlaylist:
    """Segments ``first``.. finished, ``open_parts`` parts of the next one, hint after them."""
    return LivePlaylist(
        segments=[finished(msn) for msn in range(first, first + count)],
        open_msn=first + count,
        open_parts=(PartInfo(PART),) * open_parts,
        open_program_date_time=START + timedelta(seconds=0.96 * (first + count)),
        target_duration=1,
        part_target=PART,
        preload_hint=(first + count, open_parts),
    )


def test_live_playlist_parses_with_parts_near_the_edge() -> None:
    text = render_live(live())
    parsed = m3u8.loads(text)

    assert parsed.version == 6
    assert parsed.target_duration == 1
    assert parsed.media_sequence == 10
    assert parsed.server_control.can_block_reload == "YES"
    assert parsed.server_control.part_hold_back == pytest.approx(3 * PART)
    assert parsed.part_inf.part_target == pytest.approx(PART)
    assert parsed.segment_map[0].uri == "init.mp4"
    assert not parsed.is_endlist
    assert parsed.preload_hint.hint_type == "PART"
    assert parsed.preload_hint.uri == "part16.2.m4s"
    # Six finished segments, then m3u8's URI-less entry for the open segment's parts.
    finished_segments, open_segment = parsed.segments[:-1], parsed.segments[-1]
    assert [s.uri for s in finished_segments] == [f"seg{msn}.m4s" for msn in range(10, 16)]
    assert all(s.duration == pytest.approx(0.96) for s in finished_segments)
    assert finished_segments[0].program_date_time == START + timedelta(seconds=9.6)
    assert open_segment.uri is None
    assert [p.uri for p in open_segment.parts] == ["part16.0.m4s", "part16.1.m4s"]
    # The end is 6.144 s in; parts stay for segments starting within 3 s of it.
    with_parts = [s.uri for s in finished_segments if s.parts]
    assert with_parts == ["seg14.m4s", "seg15.m4s"]
    for segment in parsed.segments:
        for part in segment.parts:
            assert part.duration == pytest.approx(PART)
            assert part.independent == "YES"


def test_parts_of_three_segments_stay_when_a_segment_just_closed() -> None:
    parsed = m3u8.loads(render_live(live(open_parts=0)))

    assert [s.uri for s in parsed.segments if s.parts] == ["seg13.m4s", "seg14.m4s", "seg15.m4s"]
    assert parsed.preload_hint.uri == "part16.0.m4s"


def test_program_date_time_precedes_the_first_part_of_its_segment() -> None:
    lines = render_live(live()).splitlines()

    at = lines.index("#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:13.440Z")
    assert lines[at + 1] == '#EXT-X-PART:DURATION=0.192,URI="part14.0.m4s",INDEPENDENT=YES'
    assert "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:15.360Z" in lines  # the open segment


def test_live_uris_are_relative_and_carry_no_query() -> None:
    # The same bytes for every listener: a cache keys them by path alone.
    parsed = m3u8.loads(render_live(live()))
    uris = [parsed.segment_map[0].uri, parsed.preload_hint.uri]
    uris += [s.uri for s in parsed.segments if s.uri]
    uris += [p.uri for s in parsed.segments for p in s.parts]
    assert len(uris) == 1 + 1 + 6 + 2 * 5 + 2
    assert all("?" not in uri and "/" not in uri for uri in uris)


def test_ended_playlist_has_endlist_and_no_preload_hint() -> None:
    base = live(open_parts=0)
    last = finished(16, (PartInfo(PART), PartInfo(0.064)))
    ended = replace(base, segments=[*base.segments, last], open_msn=17, ended=True)
    text = render_live(ended)
    parsed = m3u8.loads(text)

    assert parsed.is_endlist
    assert parsed.preload_hint is None
    assert "PRELOAD-HINT" not in text
    assert parsed.segments[-1].uri == "seg16.m4s"
    assert parsed.segments[-1].duration == pytest.approx(0.256)
    assert [p.duration for p in parsed.segments[-1].parts] == pytest.approx([PART, 0.064])


def test_a_stream_with_nothing_yet_still_parses() -> None:
    empty = replace(live(first=0, count=0, open_parts=0), open_program_date_time=None)
    parsed = m3u8.loads(render_live(empty))

    assert parsed.media_sequence == 0
    assert parsed.segments == []
    assert parsed.preload_hint.uri == "part0.0.m4s"


def test_hold_back_can_be_longer_but_never_under_two_parts() -> None:
    parsed = m3u8.loads(render_live(replace(live(), part_hold_back=1.0)))
    assert parsed.server_control.part_hold_back == pytest.approx(1.0)
    with pytest.raises(ValueError, match="PART-HOLD-BACK"):
        render_live(replace(live(), part_hold_back=0.3))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"open_msn": 17}, "out of order"),
        ({"open_parts": (PartInfo(0.25),)}, "part target"),
        ({"target_duration": 0}, "target duration"),
    ],
)
def test_windows_a_player_would_misread_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_live(replace(live(), **changes))


def test_vod_playlist_lists_every_segment_without_parts() -> None:
    segments = [finished(msn) for msn in range(0, 40)] + [finished(40, (PartInfo(0.5),))]
    text = render_vod(segments, query="token=t")
    parsed = m3u8.loads(text)

    assert parsed.playlist_type == "vod"
    assert parsed.is_endlist
    assert parsed.media_sequence == 0
    assert parsed.target_duration == 1
    assert parsed.segment_map[0].uri == "init.mp4?token=t"
    assert [s.uri for s in parsed.segments] == [f"seg{n}.m4s?token=t" for n in range(41)]
    assert all(not s.parts for s in parsed.segments)
    assert "EXT-X-PART" not in text
    assert "PRELOAD-HINT" not in text
    assert parsed.server_control is None or parsed.server_control.can_block_reload is None


def test_vod_marks_a_hole_in_the_recording_as_a_discontinuity() -> None:
    parsed = m3u8.loads(render_vod([finished(0), finished(1), finished(5), finished(6)]))

    assert [s.discontinuity for s in parsed.segments] == [False, False, True, False]
    assert [s.uri for s in parsed.segments] == ["seg0.m4s", "seg1.m4s", "seg5.m4s", "seg6.m4s"]


def test_vod_of_nothing_is_an_empty_ended_playlist() -> None:
    parsed = m3u8.loads(render_vod([]))
    assert parsed.is_endlist
    assert parsed.segments == []


@pytest.mark.parametrize(
    ("seconds", "target"), [(0.96, 1), (0.2, 1), (1.49, 1), (1.5, 2), (1.92, 2), (4.0, 4)]
)
def test_target_duration_rounds_to_the_nearest_second(seconds: float, target: int) -> None:
    assert target_duration_for(seconds) == target
