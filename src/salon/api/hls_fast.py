"""The live LL-HLS hot path: which requests it takes, what they are answered, how counted.

A player that keeps up asks about ten times a second (a blocking playlist reload and the
part it hints at, every 192 ms part), so what one request costs is what an audience costs a
box without an edge. The HTTP server answers those requests itself, before the ASGI app
(``api/hls_protocol.py``: no task, no routing, no dependency solving), from ``begin_live``,
the function the routes in ``api/media.py`` answer with too: the same status, bytes and
headers, problem bodies included.

Whatever it is not sure of is left, untouched, to those routes: another method or file name,
a query other than a plain ``_HLS_msn`` (and ``_HLS_part``) in range, a path the routes'
patterns might read differently, and a space whose room is not open on this node (opening
one reads the database, which stays on the slow path).

Its answers skip the app's middleware, so it does their part for them: CORS and
``no-store`` on errors (``AudioCors``), and the request metrics under the same route labels
the routes get (``RequestMetrics``), so ``/metrics`` reads the same either way.
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.datastructures import State

from salon.api.hls_live import EDGE_HEADER, LiveAnswer, Pending, begin_live
from salon.api.problems import problem
from salon.domain.audio_credentials import PATTERN as CREDENTIAL_PATTERN
from salon.domain.errors import Forbidden
from salon.media.engine import MediaEngine
from salon.media.hls.stream import LiveStream
from salon.metrics import HTTP_LATENCY, HTTP_REQUESTS, TALLY

#: The routes' own path templates, the labels RequestMetrics gives their requests.
FREE_ROUTE = "/api/spaces/{space_id}/hls/{name}"
TICKETED_ROUTE = "/api/spaces/{space_id}/hls/{credential}/{name}"

# ASCII only (``re.ASCII``): a path with any other digit is left to the routes to judge.
_PATH = re.compile(
    r"/api/spaces/(?P<space>[A-Za-z0-9_-]{1,16})/hls/"
    rf"(?:(?P<credential>{CREDENTIAL_PATTERN})/)?"
    r"(?P<name>live\.m3u8|init\.mp4|seg\d{1,9}\.m4s|part\d{1,9}\.\d{1,4}\.m4s)",
    re.ASCII,
)
# One whole plain GET, as a player sends it: the request line, well-formed header lines (field
# names are RFC 9110 tokens; values without control characters), the blank line, nothing more.
_RAW_REQUEST = re.compile(
    rb"GET (?P<path>/api/spaces/[!->@-~]{1,200})(?:\?(?P<query>[!-~]{0,64}))? HTTP/1\.1\r\n"
    rb"(?P<headers>(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*\r\n){0,64})\r\n",
)
# Headers the parser must see: a body, an upgrade, an expectation, a connection not kept alive.
_UNUSUAL_HEADER = re.compile(
    rb"\r\n(?:content-length|transfer-encoding|upgrade|expect)[ \t]*:"
    rb"|\r\nconnection[ \t]*:(?![ \t]*keep-alive[ \t]*\r\n)",
    re.IGNORECASE,
)
_EDGE_ON = re.compile(rb"\r\n" + EDGE_HEADER.encode() + rb"[ \t]*:[ \t]*1[ \t]*\r\n", re.IGNORECASE)
_QUERY = re.compile(rb"(?:_HLS_msn=(\d{1,10})(?:&_HLS_part=(\d{1,5}))?)?", re.ASCII)
#: The routes' bounds on ``_HLS_msn`` and ``_HLS_part``; past them the routes answer 422.
MAX_MSN = 2**31
MAX_PART = 10_000

_EDGE = EDGE_HEADER.encode()
_ANY_ORIGIN = (b"access-control-allow-origin", b"*")
_NO_STORE = (b"cache-control", b"no-store")

Headers = list[tuple[bytes, bytes]]
#: A path and query the hot path knows: space, credential, file name, _HLS_msn, _HLS_part.
Target = tuple[str, str | None, str, int | None, int | None]
#: Paths and queries remembered (players ask for the same few; the rest are dropped at once).
TARGETS_KEPT = 1024


@dataclass(slots=True)
class HotRequest:
    """A live LL-HLS request the hot path takes: a room open here, a name it knows."""

    space_id: str
    credential: str | None
    name: str
    msn: int | None
    part: int | None
    stream: LiveStream
    ticketed: bool
    via_edge: bool
    started: float

    @property
    def route(self) -> str:
        return FREE_ROUTE if self.credential is None else TICKETED_ROUTE


class HlsFastPath:
    """Takes live LL-HLS requests for rooms already open on this node.

    ``state`` is the app's (``engine``, ``ctx``), set by its lifespan.
    """

    def __init__(self, state: State) -> None:
        self.state = state
        self._counted: dict[tuple[str, int], Counter] = {}
        self._timed: dict[str, Histogram] = {}
        #: What each path and query asked names (the same few for every player), or ().
        self._targets: dict[tuple[str, bytes], Target | tuple[()]] = {}

    def take(self, scope: Any) -> HotRequest | None:
        """The request in ``scope`` (an ASGI HTTP scope) if the hot path answers it."""
        if scope["method"] != "GET" or scope.get("root_path"):
            return None
        return self._take(scope["path"], scope["query_string"], _via_edge(scope["headers"]))

    def take_raw(self, data: bytes) -> HotRequest | None:
        """The request in ``data`` if it is exactly one whole, plain HTTP/1.1 GET the hot
        path answers (no body, no ``Connection`` but keep-alive, no upgrade or expectation),
        read without the HTTP parser: what a player that keeps up sends ten times a second.
        Anything else is None, for the parser (``api/hls_protocol.py``)."""
        request = _RAW_REQUEST.fullmatch(data)
        if request is None or _UNUSUAL_HEADER.search(data, request.start("headers") - 2):
            return None
        via_edge = _EDGE_ON.search(data, request.start("headers") - 2) is not None
        return self._take(request["path"].decode("ascii"), request["query"] or b"", via_edge)

    def _take(self, path: str, query: bytes, via_edge: bool) -> HotRequest | None:
        target = self._targets.get((path, query))
        if target is None:
            target = _target(path, query)
            if len(self._targets) >= TARGETS_KEPT:
                self._targets.clear()
            self._targets[path, query] = target
        engine: MediaEngine | None = self.state._state.get("engine")
        if not target or engine is None:
            return None
        space_id, credential, name, msn, part = target
        room = engine.room(space_id)
        if room is None:
            return None
        return HotRequest(
            space_id,
            credential,
            name,
            msn,
            part,
            room.stream,
            room.ticketed,
            via_edge,
            time.perf_counter(),
        )

    def begin(self, request: HotRequest) -> LiveAnswer | Pending:
        """The answer now, or what it waits for; raises the domain error to answer instead."""
        if request.credential is not None:
            self.state.ctx.audio_credentials.check(request.credential, space_id=request.space_id)
        elif request.ticketed:
            raise Forbidden("this space is ticketed: its audio URLs come from GET /listen")
        return begin_live(
            self.state.engine,
            request.space_id,
            request.stream,
            request.name,
            request.msn,
            request.part,
            via_edge=request.via_edge,
        )

    def done(self, request: HotRequest, status: int) -> None:
        """Count an answered request as RequestMetrics counts the routes' (in bulk)."""
        TALLY.inc(self._count(request.route, status))
        TALLY.observe(self._time(request.route), time.perf_counter() - request.started)

    def _count(self, route: str, status: int) -> Counter:
        # labels() takes a lock and builds a key: once per (route, status), not per request.
        counter = self._counted.get((route, status))
        if counter is None:
            counter = HTTP_REQUESTS.labels(method="GET", route=route, status=str(status))
            self._counted[route, status] = counter
        return counter

    def _time(self, route: str) -> Histogram:
        histogram = self._timed.get(route)
        if histogram is None:
            histogram = self._timed[route] = HTTP_LATENCY.labels(method="GET", route=route)
        return histogram


def _target(path_text: str, query_string: bytes) -> Target | tuple[()]:
    """(space, credential, name, msn, part) of a path and query the hot path knows, or ()."""
    path = _PATH.fullmatch(path_text)
    query = _QUERY.fullmatch(query_string)
    if path is None or query is None:
        return ()
    msn = None if query[1] is None else int(query[1])
    part = None if query[2] is None else int(query[2])
    if (msn is not None and msn > MAX_MSN) or (part or 0) > MAX_PART:
        return ()
    return path["space"], path["credential"], path["name"], msn, part


def answer_headers(answer: LiveAnswer) -> Headers:
    """A live answer's headers, in the routes' order (Starlette's Response): theirs, then
    length, then type."""
    return [
        _header(b"cache-control", answer.cache_control),
        _ANY_ORIGIN,
        (b"content-length", b"%d" % len(answer.body)),
        _header(b"content-type", answer.media_type),
    ]


def problem_answer(status: int, title: str, detail: str) -> tuple[Headers, bytes]:
    """A refusal's headers and body, as the routes' error handler (``api/problems.py``) and
    ``AudioCors`` make them: a 503 says when to try again."""
    headers = {"Retry-After": "1"} if status == 503 else None
    response = problem(status, title, detail, headers=headers)
    return [*response.raw_headers, _ANY_ORIGIN, _NO_STORE], bytes(response.body)


@functools.cache
def _header(name: bytes, value: str) -> tuple[bytes, bytes]:
    return name, value.encode("latin-1")  # a handful of values, encoded once each


def _via_edge(headers: Headers) -> bool:
    for key, value in headers:
        if key == _EDGE:
            return value == b"1"
    return False
