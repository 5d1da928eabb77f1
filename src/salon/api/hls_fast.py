"""The live LL-HLS hot path: players of a room this node already runs, answered in plain ASGI.

A player that keeps up asks about ten times a second (a blocking playlist reload and the
part it hints at, every 192 ms part), so what one request costs is what an audience costs a
box without an edge. This middleware answers those requests before FastAPI's routing and
dependency solving, with ``answer_live``, the function the routes in ``api/media.py`` answer
with too: the same status, bytes and headers, problem bodies included.

Whatever it is not sure of falls through, untouched, to those routes: another method or file
name, a query other than a plain ``_HLS_msn`` (and ``_HLS_part``) in range, a path the routes'
patterns might read differently, and a space whose room is not open on this node (opening one
reads the database, which stays on the slow path).

It sits in front of the whole FastAPI app (``app.SalonApp``), so it does the part of the
app's middleware for its own answers: CORS and ``no-store`` on errors (``AudioCors``), the
request metrics under the same route labels the routes get (``RequestMetrics``), so
``/metrics`` reads the same either way, and a problem body for an unexpected error
(Starlette's ``ServerErrorMiddleware``).
"""

from __future__ import annotations

import functools
import logging
import re
import time

from prometheus_client import Counter, Histogram
from starlette.datastructures import State
from starlette.types import ASGIApp, Receive, Scope, Send

from salon.api.hls_live import EDGE_HEADER, answer_live
from salon.api.problems import problem
from salon.domain.audio_credentials import PATTERN as CREDENTIAL_PATTERN
from salon.domain.errors import DomainError, Forbidden
from salon.media.engine import MediaEngine
from salon.metrics import HTTP_LATENCY, HTTP_REQUESTS

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
_QUERY = re.compile(rb"(?:_HLS_msn=(\d{1,10})(?:&_HLS_part=(\d{1,5}))?)?", re.ASCII)
#: The routes' bounds on ``_HLS_msn`` and ``_HLS_part``; past them the routes answer 422.
MAX_MSN = 2**31
MAX_PART = 10_000

log = logging.getLogger(__name__)

_EDGE = EDGE_HEADER.encode()
_ANY_ORIGIN = (b"access-control-allow-origin", b"*")
_NO_STORE = (b"cache-control", b"no-store")


class HlsFastPath:
    """Answers live LL-HLS requests for rooms already open on this node; the rest to ``app``.

    ``state`` is the app's (``engine``, ``ctx``), set by its lifespan.
    """

    def __init__(self, app: ASGIApp, state: State) -> None:
        self.app = app
        self.state = state
        self._counted: dict[tuple[str, int], Counter] = {}
        self._timed: dict[str, Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        path = _PATH.fullmatch(scope["path"])
        query = _QUERY.fullmatch(scope["query_string"])
        engine: MediaEngine | None = getattr(self.state, "engine", None)
        if path is None or query is None or engine is None:
            await self.app(scope, receive, send)
            return
        msn = None if query[1] is None else int(query[1])
        part = None if query[2] is None else int(query[2])
        space_id = path["space"]
        room = engine.room(space_id)
        if room is None or (msn is not None and msn > MAX_MSN) or (part or 0) > MAX_PART:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        credential = path["credential"]
        status = 500  # what RequestMetrics records when an exception ends the request
        started_answer = False
        try:
            if credential is not None:
                self.state.ctx.audio_credentials.check(credential, space_id=space_id)
            elif room.ticketed:
                raise Forbidden("this space is ticketed: its audio URLs come from GET /listen")
            answer = await answer_live(
                engine, space_id, room.stream, path["name"], msn, part, via_edge=_via_edge(scope)
            )
        except DomainError as exc:
            status = exc.status
            await _problem(exc.status, exc.title, exc.detail, scope, receive, send)
        except Exception:
            log.exception("the LL-HLS hot path failed on %s", scope["path"])
            if not started_answer:
                await _problem(
                    500,
                    "Internal server error",
                    "something went wrong on our side",
                    scope,
                    receive,
                    send,
                )
        else:
            # In the routes' order (Starlette's Response): theirs, then length, then type.
            headers = [
                _header(b"cache-control", answer.cache_control),
                _ANY_ORIGIN,
                (b"content-length", b"%d" % len(answer.body)),
                _header(b"content-type", answer.media_type),
            ]
            status = 200
            started_answer = True
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": answer.body})
        finally:
            route = FREE_ROUTE if credential is None else TICKETED_ROUTE
            self._count(route, status).inc()
            self._time(route).observe(time.perf_counter() - started)

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


async def _problem(
    status: int, title: str, detail: str, scope: Scope, receive: Receive, send: Send
) -> None:
    # As the routes' error handler does (api/problems.py): a 503 says when to try again.
    headers = {"Retry-After": "1"} if status == 503 else None
    response = problem(status, title, detail, headers=headers)
    response.raw_headers += [_ANY_ORIGIN, _NO_STORE]
    await response(scope, receive, send)


@functools.cache
def _header(name: bytes, value: str) -> tuple[bytes, bytes]:
    return name, value.encode("latin-1")  # a handful of values, encoded once each


def _via_edge(scope: Scope) -> bool:
    for key, value in scope["headers"]:
        if key == _EDGE:
            return bool(value == b"1")
    return False
