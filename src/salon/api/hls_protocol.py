"""uvicorn's HTTP/1.1 protocol, answering the live LL-HLS hot path itself.

Under uvicorn every request costs a task, a ``RequestResponseCycle`` driven through ASGI
messages, the proxy-headers middleware and two socket writes: about half of what a live
playlist or part cost this origin (py-spy, 300 players). ``HotPathProtocol`` answers the
requests ``HlsFastPath`` takes straight from the parser's callback: an answer that exists is
written at once, in one write; a blocked one (a blocking reload, the preload-hinted part)
waits as a callback on the stream (``LiveStream.watch``), not as a task. Everything else
goes to the app exactly as uvicorn sends it.

It relies on uvicorn's ``HttpToolsProtocol`` internals (``_start_asgi_task``, the cycle's
fields, ``STATUS_LINE``), so uvicorn is pinned to one minor version in ``pyproject.toml``,
and ``tests/media/test_hls_protocol.py`` holds it to uvicorn's own behaviour (keep-alive,
HTTP/1.0, pipelining, a client gone while it waits).
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

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        hot = self.hot_path
        request = None if hot is None else hot.take(cycle.scope)
        if hot is None or request is None:
            super()._start_asgi_task(cycle, app)
            return
        self._respond(cycle, hot, request, lambda: self._begin(cycle, hot, request))

    def _begin(
        self, cycle: RequestResponseCycle, hot: HlsFastPath, request: HotRequest
    ) -> LiveAnswer | None:
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
        return None if waits else answer.finish()

    def _resume(
        self,
        cycle: RequestResponseCycle,
        hot: HlsFastPath,
        request: HotRequest,
        pending: Pending,
        ready: bool,
    ) -> None:
        if cycle.disconnected:
            return  # the player went away while it waited: nobody to answer
        self._respond(cycle, hot, request, pending.finish if ready else _late)

    def _respond(
        self,
        cycle: RequestResponseCycle,
        hot: HlsFastPath,
        request: HotRequest,
        produce: Callable[[], LiveAnswer | None],
    ) -> None:
        """Answer with what ``produce`` makes, or the refusal or failure it raises."""
        try:
            answer = produce()
        except DomainError as exc:
            self._refuse(cycle, hot, request, exc)
        except Exception:
            self._fail(cycle, hot, request)
        else:
            if answer is not None:
                self._answer(cycle, hot, request, answer)

    def _answer(
        self, cycle: RequestResponseCycle, hot: HlsFastPath, request: HotRequest, answer: LiveAnswer
    ) -> None:
        self._write(cycle, 200, answer_headers(answer), answer.body)
        hot.done(request, 200)

    def _refuse(
        self, cycle: RequestResponseCycle, hot: HlsFastPath, request: HotRequest, exc: DomainError
    ) -> None:
        headers, body = problem_answer(exc.status, exc.title, exc.detail)
        self._write(cycle, exc.status, headers, body)
        hot.done(request, exc.status)

    def _fail(self, cycle: RequestResponseCycle, hot: HlsFastPath, request: HotRequest) -> None:
        log.exception("the LL-HLS hot path failed on %s", cycle.scope["path"])
        headers, body = problem_answer(
            500, "Internal server error", "something went wrong on our side"
        )
        self._write(cycle, 500, headers, body)
        hot.done(request, 500)

    def _write(
        self, cycle: RequestResponseCycle, status: int, headers: Headers, body: bytes
    ) -> None:
        """The whole response in one write, then what uvicorn does when a response ends."""
        content = [STATUS_LINE[status]]
        for name, value in (*self.server_state.default_headers, *headers):
            content += (name, b": ", value, b"\r\n")
        if not cycle.keep_alive:
            content.append(b"connection: close\r\n")
        content += (b"\r\n", body)
        cycle.response_started = cycle.response_complete = True
        self.transport.write(b"".join(content))
        cycle.message_event.set()
        if not cycle.keep_alive:
            self.transport.close()
        cycle.on_response()


def _late() -> LiveAnswer:
    raise not_in_time()
