"""uvicorn's HTTP/1.1 protocol, answering the live LL-HLS hot path itself.

Under uvicorn every request costs a task, a ``RequestResponseCycle`` driven through ASGI
messages, the proxy-headers middleware and two socket writes: about half of what a live
playlist or part cost this origin (py-spy, 300 players). ``HotPathProtocol`` answers the
requests ``HlsFastPath`` takes itself: an answer that exists is written at once, in one
write; a blocked one (a blocking reload, the preload-hinted part) waits as a callback on the
stream (``LiveStream.watch``), not as a task. Everything else goes to the app exactly as
uvicorn sends it.

Two ways in:

- **Raw** (what a player that keeps up sends): when the HTTP parser holds nothing and no
  request is in flight on the connection, bytes that are exactly one whole plain keep-alive
  HTTP/1.1 GET the hot path takes (``HlsFastPath.take_raw``) are answered without the parser,
  the ASGI scope or a cycle: uvicorn's callbacks were a quarter of the hot path's CPU. What
  arrives while such a request waits is kept, with reading paused, and fed on after its
  answer (pipelining). The keep-alive timer is re-armed lazily (``timeout_keep_alive_handler``
  looks at when the connection was last used) rather than cancelled and set per request.
- **Parsed** (anything else the hot path takes: HTTP/1.0, a request split over reads,
  ``Connection: close``): uvicorn parses it and builds its cycle, and the answer is written
  from ``_start_asgi_task`` instead of starting the app.

Whole 200 answers are built once per body, cache policy and ``Date`` (``_Answers``): when a
part is published, the hundreds of requests held for it get the same bytes.

It relies on uvicorn's ``HttpToolsProtocol`` internals (``_start_asgi_task``, the parser
callbacks, the keep-alive timer, the cycle's fields, ``STATUS_LINE``), so uvicorn is pinned to
one minor version in ``pyproject.toml``, and ``tests/media/test_hls_protocol.py`` holds it to
uvicorn's own behaviour (keep-alive, HTTP/1.0, pipelining, a client gone while it waits,
malformed requests, the idle timeout).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from uvicorn._types import ASGI3Application
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)
from uvicorn.server import ServerState

from salon.api.hls_fast import (
    Headers,
    HlsFastPath,
    HotRequest,
    answer_headers,
    problem_answer,
)
from salon.api.hls_live import LiveAnswer, Pending, not_in_time, too_far
from salon.domain.errors import DomainError
from salon.media.hls.stream import TooFarAhead

log = logging.getLogger(__name__)

#: Where an answer goes: uvicorn's cycle (a parsed request), or None (a raw one).
Exchange = RequestResponseCycle | None


class _Answers:
    """Whole 200 answers as written, built once per (body, cache policy, ``Date``)."""

    LIMIT = 256

    def __init__(self) -> None:
        self._built: dict[tuple[int, str], tuple[bytes, list[tuple[bytes, bytes]], bytes]] = {}

    def wire(self, answer: LiveAnswer, default_headers: list[tuple[bytes, bytes]]) -> bytes:
        key = (id(answer.body), answer.cache_control)
        entry = self._built.get(key)
        # The body itself is kept in the entry, so its id cannot be reused while it is here.
        if entry is not None and entry[0] is answer.body and entry[1] is default_headers:
            return entry[2]
        wire = _compose(200, default_headers, answer_headers(answer), answer.body, True)
        if len(self._built) >= self.LIMIT:
            self._built.clear()
        self._built[key] = (answer.body, default_headers, wire)
        return wire


_ANSWERS = _Answers()


def _compose(
    status: int,
    default_headers: list[tuple[bytes, bytes]],
    headers: Headers,
    body: bytes,
    keep_alive: bool,
) -> bytes:
    content = [STATUS_LINE[status]]
    for name, value in (*default_headers, *headers):
        content += (name, b": ", value, b"\r\n")
    if not keep_alive:
        content.append(b"connection: close\r\n")
    content += (b"\r\n", body)
    return b"".join(content)


class HotPathProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` that answers what the app's ``hot_path`` takes by itself."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: Any = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.hot_path: HlsFastPath | None = getattr(config.app, "hot_path", None)
        #: The parser is inside a message (between its first byte and its end).
        self._parsing = False
        #: A raw request waits on the stream; what arrives meanwhile waits in ``_backlog``.
        self._held = False
        self._backlog: list[bytes] = []
        self._lost = False
        #: When a raw request was last answered (the lazy keep-alive timer reads it).
        self._used_at = 0.0

    # The raw way in.

    def data_received(self, data: bytes) -> None:
        if self._held or self._backlog:
            self._backlog.append(data)  # pipelined behind a held request: after its answer
            self.flow.pause_reading()
            return
        hot = self.hot_path
        if (
            hot is not None
            and not self._parsing
            and (self.cycle is None or self.cycle.response_complete)
            and not self.pipeline
        ):
            request = hot.take_raw(data)
            if request is not None:
                self._respond(None, hot, request, lambda: self._begin(None, hot, request))
                return
        super().data_received(data)

    def on_message_begin(self) -> None:
        self._parsing = True
        super().on_message_begin()

    def on_message_complete(self) -> None:
        self._parsing = False
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        super().connection_lost(exc)

    def timeout_keep_alive_handler(self) -> None:
        """Close an idle connection; one used by a raw request since the timer was set gets
        the rest of its time (the raw way does not cancel and re-arm it per request)."""
        self.timeout_keep_alive_task = None
        idle = self.loop.time() - self._used_at
        if not self._held and idle >= self.timeout_keep_alive:
            super().timeout_keep_alive_handler()
            return
        wait = self.timeout_keep_alive if self._held else self.timeout_keep_alive - idle
        self.timeout_keep_alive_task = self.loop.call_later(wait, self.timeout_keep_alive_handler)

    def _raw_answered(self) -> None:
        self._held = False
        self._used_at = self.loop.time()
        self.server_state.total_requests += 1
        if self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )
        if self._backlog:
            data = b"".join(self._backlog)
            self._backlog.clear()
            self.flow.resume_reading()
            self.data_received(data)

    # The parsed way in.

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        hot = self.hot_path
        request = None if hot is None else hot.take(cycle.scope)
        if hot is None or request is None:
            super()._start_asgi_task(cycle, app)
            return
        self._respond(cycle, hot, request, lambda: self._begin(cycle, hot, request))

    # Answering, either way.

    def _begin(self, cycle: Exchange, hot: HlsFastPath, request: HotRequest) -> LiveAnswer | None:
        """The answer now, or None when it waits on the stream (``_resume`` answers)."""
        answer = hot.begin(request)
        if isinstance(answer, LiveAnswer):
            return answer
        resume = functools.partial(self._resume, cycle, hot, request, answer)
        try:
            waits = not request.stream.watch(
                answer.msn, answer.part, resume, 3 * request.stream.target_duration
            )
        except TooFarAhead:
            raise too_far() from None
        if not waits:
            return answer.finish()
        if cycle is None:
            self._held = True
        return None

    def _resume(
        self, cycle: Exchange, hot: HlsFastPath, request: HotRequest, pending: Pending, ready: bool
    ) -> None:
        if (cycle is None and self._lost) or (cycle is not None and cycle.disconnected):
            return  # the player went away while it waited: nobody to answer
        self._respond(cycle, hot, request, pending.finish if ready else _late)

    def _respond(
        self,
        cycle: Exchange,
        hot: HlsFastPath,
        request: HotRequest,
        produce: Callable[[], LiveAnswer | None],
    ) -> None:
        """Answer with what ``produce`` makes, or the refusal or failure it raises."""
        try:
            answer = produce()
        except DomainError as exc:
            headers, body = problem_answer(exc.status, exc.title, exc.detail)
            self._write(cycle, self._compose(cycle, exc.status, headers, body))
            hot.done(request, exc.status)
        except Exception:
            log.exception("the LL-HLS hot path failed on %s", request.name)
            headers, body = problem_answer(
                500, "Internal server error", "something went wrong on our side"
            )
            self._write(cycle, self._compose(cycle, 500, headers, body))
            hot.done(request, 500)
        else:
            if answer is not None:
                if cycle is None or cycle.keep_alive:
                    wire = _ANSWERS.wire(answer, self.server_state.default_headers)
                else:
                    wire = self._compose(cycle, 200, answer_headers(answer), answer.body)
                self._write(cycle, wire)
                hot.done(request, 200)

    def _compose(self, cycle: Exchange, status: int, headers: Headers, body: bytes) -> bytes:
        keep_alive = cycle is None or cycle.keep_alive
        return _compose(status, self.server_state.default_headers, headers, body, keep_alive)

    def _write(self, cycle: Exchange, wire: bytes) -> None:
        """The whole response in one write, then what uvicorn does when a response ends."""
        self.transport.write(wire)
        if cycle is None:
            self._raw_answered()
            return
        cycle.response_started = cycle.response_complete = True
        cycle.message_event.set()
        if not cycle.keep_alive:
            self.transport.close()
        cycle.on_response()


def _late() -> LiveAnswer:
    raise not_in_time()
