"""What a live LL-HLS request is answered with, whichever way it came in.

The FastAPI routes (``api/media.py``, the slow path that opens rooms and documents the API)
and the plain-ASGI hot path (``api/hls_fast.py``) both answer from here, so the two cannot
drift apart: the bytes, the media type, the cache policy, the counters and the refusals
(domain errors, mapped to problem responses by each caller) are decided in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from salon.domain.errors import BadRequest, NotFound, Unavailable
from salon.media.engine import MediaEngine
from salon.media.hls.stream import LiveStream, TooFarAhead
from salon.media.hls.stream import Timeout as WaitTimeout

PLAYLIST = "application/vnd.apple.mpegurl"
MP4 = "video/mp4"
#: Media never changes once published (its name is never reused): any cache may keep it.
IMMUTABLE_SECONDS = 31536000
PLAYLIST_CACHE = "no-cache"
BLOCKED_CACHE = "public, max-age=6"
#: The header the shipped edge (Varnish) adds to the requests it sends this origin.
EDGE_HEADER = "x-salon-edge"

_MEDIA = re.compile(r"^(?:seg(\d+)|part(\d+)\.(\d+))\.m4s$")


def immutable(seconds: int = IMMUTABLE_SECONDS) -> str:
    return f"public, max-age={seconds}, immutable"


IMMUTABLE = immutable()


@dataclass(frozen=True, slots=True)
class LiveAnswer:
    """A successful answer: its body, Content-Type and Cache-Control."""

    body: bytes
    media_type: str
    cache_control: str


async def answer_live(
    engine: MediaEngine,
    space_id: str,
    stream: LiveStream,
    name: str,
    msn: int | None,
    part: int | None,
    *,
    via_edge: bool,
) -> LiveAnswer:
    """Answer ``name`` (``live.m3u8``, ``init.mp4``, ``seg{n}.m4s``, ``part{n}.{i}.m4s``) of
    an authorized listener; raises the domain error to answer instead.

    A playlist with ``_HLS_msn`` (and ``_HLS_part``) is a blocking reload: it waits until
    that part exists. A request for the preload-hinted part waits for it too.
    """
    if name == "live.m3u8" and part is not None and msn is None:
        raise BadRequest("_HLS_part needs _HLS_msn")
    if name == "live.m3u8":
        engine.count_hls("playlist" if msn is None else "blocking")
        if msn is not None:
            await _wait(stream, msn, part)
        engine.note_listener_request(space_id, name, via_edge)
        # A blocking-reload URL names one moment of the stream; a plain one is always news.
        return LiveAnswer(
            stream.playlist(), PLAYLIST, PLAYLIST_CACHE if msn is None else BLOCKED_CACHE
        )
    if name == "init.mp4":
        engine.count_hls("init")
        engine.note_listener_request(space_id, name, via_edge)
        return LiveAnswer(stream.init, MP4, IMMUTABLE)
    match = _MEDIA.match(name)
    assert match is not None  # both callers' path patterns guarantee it
    if match.group(1) is not None:
        engine.count_hls("segment")
        data = stream.segment(int(match.group(1)))
    else:
        engine.count_hls("part")
        msn, index = int(match.group(2)), int(match.group(3))
        data = stream.part(msn, index)
        if data is None and stream.is_upcoming(msn, index):
            await _wait(stream, msn, index)  # the preload-hinted part: hold until published
            data = stream.part(msn, index)
    if data is None:
        raise NotFound(f"{name} is not in the live window")
    # Only what was served: players are counted from the audio they got.
    engine.note_listener_request(space_id, name, via_edge)
    return LiveAnswer(data, MP4, IMMUTABLE)


async def _wait(stream: LiveStream, msn: int, part: int | None) -> None:
    try:
        await stream.wait_for(msn, part, timeout=3 * stream.target_duration)
    except TooFarAhead:
        raise BadRequest("that part is too far in the future") from None
    except WaitTimeout:
        raise Unavailable("that part did not arrive in time") from None
