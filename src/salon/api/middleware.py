"""ASGI middleware: cross-site request refusal and request metrics."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from salon.api.problems import problem
from salon.api.webrtc_http import webrtc_origin_allowed
from salon.metrics import HTTP_LATENCY, HTTP_REQUESTS

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def origin_allowed(headers: Mapping[str, str], allowed: list[str]) -> bool:
    """A request's Origin, when a browser sends one, must be this app's own or an allowed one.

    Browsers always send Origin on cross-site state-changing requests and WebSocket opens, so
    refusing foreign origins stops cross-site request forgery against cookie sessions. Clients
    that send no Origin (scripts, bots with bearer tokens) are not browsers and pass.
    """
    origin = headers.get("origin")
    if origin is None:
        return True
    host = headers.get("host", "")
    own = {f"http://{host}", f"https://{host}"}
    return origin in own or origin in allowed


class OriginCheck:
    """Refuses state-changing requests from foreign origins, but for WHIP and WHEP from the
    origins in ``webrtc_allowed`` (bearer tokens only: ``WebRtcCors`` dropped their cookies)."""

    def __init__(
        self, app: ASGIApp, *, allowed: list[str], webrtc_allowed: list[str] | None = None
    ) -> None:
        self.app = app
        self.allowed = allowed
        self.webrtc_allowed = frozenset(webrtc_allowed or [])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in _SAFE_METHODS:
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            if not origin_allowed(headers, self.allowed) and not webrtc_origin_allowed(
                scope, headers.get("origin", ""), self.webrtc_allowed
            ):
                response = problem(
                    403, "Forbidden", "cross-site requests are not allowed (Origin mismatch)"
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


_AUDIO_PATH = re.compile(r"^/api/spaces/[^/]+/(?:hls|recording)/")


class AudioCors:
    """Every answer under a space's audio paths, errors included, allows any origin.

    Audio URLs open by their path (public, or a credential in it), never by a cookie, so a
    player on another origin (an embed, a CDN) may read them and their errors. Errors are
    also marked ``no-store`` so no cache holds a refusal.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _AUDIO_PATH.match(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("access-control-allow-origin", "*")
                if message["status"] >= 400:
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_wrapper)


class PrivateNoStore:
    """Answers to state-changing requests, and to anything sent with a session or a bearer
    token, are ``Cache-Control: no-store`` unless they set their own policy: they may hold
    personal data, and no browser or shared cache should keep them. (Audio and the web app's
    files set their own: they are the same for everyone.)"""

    def __init__(self, app: ASGIApp, *, session_cookie: str) -> None:
        self.app = app
        self._cookie = session_cookie.encode() + b"="

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._private(scope):
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_wrapper)

    def _private(self, scope: Scope) -> bool:
        if scope["method"] not in _SAFE_METHODS:
            return True
        for key, value in scope["headers"]:
            if key == b"authorization" or (key == b"cookie" and self._cookie in value):
                return True
        return False


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            HTTP_REQUESTS.labels(method=method, route=template, status=str(status)).inc()
            HTTP_LATENCY.labels(method=method, route=template).observe(
                time.perf_counter() - started
            )
