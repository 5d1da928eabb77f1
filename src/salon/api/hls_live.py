"""What a live LL-HLS request is answered with, whichever way it came in.

The FastAPI routes (``api/media.py``, the slow path that opens rooms and documents the API)
and the hot path inside the HTTP server (``api/hls_fast.py``, ``api/hls_protocol.py``) both
answer from here, so the two cannot drift apart: the bytes, the media type, the cache
policy, the counters and the refusals (domain errors, mapped to problem responses by each
caller) are decided in one place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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
#: The header the shipped edge's audio cache adds to the requests it sends this origin.
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


@dataclass(frozen=True, slots=True)
class Pending:
    """A request that waits (a blocking reload, or the preload-hinted part): wait for
    ``stream.wait_for(msn, part)`` (or ``watch``), then answer with ``finish()``."""

    msn: int
    part: int | None
    finish: Callable[[], LiveAnswer]


def begin_live(
    engine: MediaEngine,
    space_id: str,
    stream: LiveStream,
    name: str,
    msn: int | None,
    part: int | None,
    *,
    via_edge: bool,
) -> LiveAnswer | Pending:
    """Answer ``name`` (``live.m3u8``, ``init.mp4``, ``seg{n}.m4s``, ``part{n}.{i}.m4s``) of
    an authorized listener now, or say what it waits for; raises the domain error to answer
    instead.

    A playlist with ``_HLS_msn`` (and ``_HLS_part``) is a blocking reload: it waits until
    that part exists. A request for the preload-hinted part waits for it too.
    """
    if name == "live.m3u8":
        if part is not None and msn is None:
            raise BadRequest("_HLS_part needs _HLS_msn")
        engine.count_hls("playlist" if msn is None else "blocking")

        def playlist() -> LiveAnswer:
            engine.note_listener_request(space_id, name, via_edge)
            # A blocking-reload URL names one moment of the stream; a plain one is news.
            cache = PLAYLIST_CACHE if msn is None else BLOCKED_CACHE
            return LiveAnswer(stream.playlist(), PLAYLIST, cache)

        return playlist() if msn is None else Pending(msn, part, playlist)
    if name == "init.mp4":
        engine.count_hls("init")
        engine.note_listener_request(space_id, name, via_edge)
        return LiveAnswer(stream.init, MP4, IMMUTABLE)
    match = _MEDIA.match(name)
    assert match is not None  # both callers' path patterns guarantee it
    if match.group(1) is not None:
        engine.count_hls("segment")
        return _media(engine, space_id, name, stream.segment(int(match.group(1))), via_edge)
    engine.count_hls("part")
    msn, index = int(match.group(2)), int(match.group(3))
    data = stream.part(msn, index)
    if data is None and stream.is_upcoming(msn, index):
        # The preload-hinted part: held until published.
        return Pending(
            msn,
            index,
            lambda: _media(engine, space_id, name, stream.part(msn, index), via_edge),
        )
    return _media(engine, space_id, name, data, via_edge)


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
    """``begin_live``, waiting when it says to (the FastAPI routes' way)."""
    answer = begin_live(engine, space_id, stream, name, msn, part, via_edge=via_edge)
    if isinstance(answer, LiveAnswer):
        return answer
    try:
        await stream.wait_for(answer.msn, answer.part, timeout=3 * stream.target_duration)
    except TooFarAhead:
        raise too_far() from None
    except WaitTimeout:
        raise not_in_time() from None
    return answer.finish()


def too_far() -> BadRequest:
    return BadRequest("that part is too far in the future")


def not_in_time() -> Unavailable:
    return Unavailable("that part did not arrive in time")


def _media(
    engine: MediaEngine, space_id: str, name: str, data: bytes | None, via_edge: bool
) -> LiveAnswer:
    if data is None:
        raise NotFound(f"{name} is not in the live window")
    # Only what was served: players are counted from the audio they got.
    engine.note_listener_request(space_id, name, via_edge)
    return LiveAnswer(data, MP4, IMMUTABLE)
