"""What WHIP (RFC 9725) and WHEP share over HTTP: the SDP body, ICE server Link headers,
trickle PATCH rules, and cross-origin access for publishers and players on other origins.

Cross-origin WHIP and WHEP are opened to the origins in ``SALON_WHIP_ALLOWED_ORIGINS`` only,
and only with a bearer token: their cookies are dropped before any route sees the request,
so a page on such an origin can do nothing a cookie session could (CSRF protection for
every other route is untouched: ``OriginCheck`` still refuses that origin elsewhere).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from salon.api.problems import problem
from salon.domain.errors import Invalid, TooLarge, UnsupportedMediaType
from salon.media import sdpfrag
from salon.media.session import WebRtcSession
from salon.media.trickle import IceRestart

SDP = "application/sdp"
MAX_OFFER_BYTES = 64 * 1024

#: A WHIP or WHEP endpoint (``/whip``) or session resource (``/whip/<session>``).
PATH = re.compile(r"^/api/spaces/[^/]+/(?:whip|whep)(?:/[^/]+)?$")

#: What a cross-origin page may send and read (RFC 9725 §4.3 names ETag, Location, Link).
_ALLOW_METHODS = "POST, PATCH, DELETE, OPTIONS"
_ALLOW_HEADERS = "Authorization, Content-Type, If-Match"
_EXPOSE_HEADERS = "Location, Link, ETag, Accept-Patch, Accept-Post, Retry-After"
_PREFLIGHT_MAX_AGE = "600"


#: What a WHIP or WHEP session resource answers (RFC 9725 §4.3: PATCH for trickle, DELETE to end).
SESSION_METHODS = "OPTIONS, PATCH, DELETE"
ENDPOINT_METHODS = "OPTIONS, POST"

OFFER_BODY: dict[str, Any] = {
    "requestBody": {"required": True, "content": {SDP: {"schema": {"type": "string"}}}}
}
FRAGMENT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {sdpfrag.MEDIA_TYPE: {"schema": {"type": "string"}}},
    }
}


def content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_offer(request: Request) -> str:
    """The SDP offer of a WHIP or WHEP POST (415 unless ``application/sdp``, 413 if huge)."""
    if content_type(request) != SDP:
        raise UnsupportedMediaType("send the offer as application/sdp")
    body = await request.body()
    if len(body) > MAX_OFFER_BYTES:
        raise TooLarge(f"an SDP offer is at most {MAX_OFFER_BYTES} bytes")
    return body.decode("utf-8", "replace")


async def read_fragment(request: Request) -> sdpfrag.Fragment:
    """A trickle PATCH's fragment (415 unless ``application/trickle-ice-sdpfrag``)."""
    if content_type(request) != sdpfrag.MEDIA_TYPE:
        raise UnsupportedMediaType(f"send ICE candidates as {sdpfrag.MEDIA_TYPE} (RFC 8840)")
    body = await request.body()
    if len(body) > sdpfrag.MAX_BYTES:
        raise TooLarge(f"a trickle ICE fragment is at most {sdpfrag.MAX_BYTES} bytes")
    return sdpfrag.parse(body.decode("utf-8", "replace"))


def etag(session_id: str) -> str:
    """The session's entity tag: it changes only with an ICE restart, which Salon refuses."""
    return f'"{session_id}"'


def if_match_ok(header: str | None, session_id: str) -> bool:
    """RFC 9725 §4.3.1: a PATCH names the session's ETag (or ``*``); none is accepted too."""
    if header is None:
        return True
    tags = [tag.strip() for tag in header.split(",")]
    return "*" in tags or etag(session_id) in tags


def _quoted(value: object) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def ice_server_links(servers: Iterable[Mapping[str, object]]) -> list[str]:
    """``Link: <turn:…>; rel="ice-server"; username=…`` values (RFC 9725 §4.6), one per URL."""
    links: list[str] = []
    for server in servers:
        urls = server.get("urls")
        for url in [urls] if isinstance(urls, str) else list(urls or []):  # type: ignore[call-overload]
            link = f'<{url}>; rel="ice-server"'
            if server.get("username") is not None:
                link += f"; username={_quoted(server['username'])}"
            if server.get("credential") is not None:
                link += f'; credential={_quoted(server["credential"])}; credential-type="password"'
            links.append(link)
    return links


def with_links(response: Response, links: list[str]) -> Response:
    for link in links:
        response.headers.append("Link", link)
    return response


def created(
    session: WebRtcSession, location: str, ice_servers: Iterable[Mapping[str, object]]
) -> Response:
    """The 201 of a WHIP or WHEP POST: the answer, where the session is, its ETag, what a
    PATCH takes, and the ICE servers."""
    response = Response(
        session.answer_sdp,
        status_code=201,
        media_type=SDP,
        headers={
            "Location": location,
            "ETag": etag(session.session_id),
            "Accept-Patch": sdpfrag.MEDIA_TYPE,
        },
    )
    return with_links(response, ice_server_links(ice_servers))


def session_options() -> Response:
    """What a session resource takes (its OPTIONS)."""
    return Response(
        status_code=204, headers={"Accept-Patch": sdpfrag.MEDIA_TYPE, "Allow": SESSION_METHODS}
    )


async def trickle(request: Request, session: WebRtcSession, if_match: str | None) -> Response:
    """A trickle PATCH into ``session``: 204; 412 for a stale If-Match, 422 for a bad
    fragment, 501 for an ICE restart (a new offer reconnects instead)."""
    if not if_match_ok(if_match, session.session_id):
        return problem(412, "Precondition failed", "If-Match does not name this session")
    try:
        await session.trickle(await read_fragment(request))
    except sdpfrag.BadFragment as exc:
        raise Invalid(str(exc)) from None
    except IceRestart:
        return problem(
            501, "Not implemented", "ICE restarts are not supported: POST a new offer to reconnect"
        )
    return Response(status_code=204)


def own_origin(headers: Mapping[str, str]) -> bool:
    host = headers.get("host", "")
    return headers.get("origin") in {f"http://{host}", f"https://{host}"}


class WebRtcCors:
    """CORS for WHIP and WHEP from the allowed origins: preflights answered here; the real
    request loses its cookies and its answer names the origin and exposes the WHIP headers."""

    def __init__(self, app: ASGIApp, *, allowed: list[str]) -> None:
        self.app = app
        self.allowed = frozenset(allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.allowed or not PATH.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin")
        if origin is None or origin not in self.allowed or own_origin(headers):
            await self.app(scope, receive, send)
            return
        cors = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            preflight = Response(
                status_code=204,
                headers={
                    **cors,
                    "Access-Control-Allow-Methods": _ALLOW_METHODS,
                    "Access-Control-Allow-Headers": _ALLOW_HEADERS,
                    "Access-Control-Max-Age": _PREFLIGHT_MAX_AGE,
                },
            )
            await preflight(scope, receive, send)
            return
        scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"cookie"]}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer = MutableHeaders(scope=message)
                for name, value in cors.items():
                    answer[name] = value
                answer["Access-Control-Expose-Headers"] = _EXPOSE_HEADERS
            await send(message)

        await self.app(scope, receive, send_wrapper)


def webrtc_origin_allowed(scope: Scope, origin: str, allowed: frozenset[str]) -> bool:
    """Whether ``OriginCheck`` lets a foreign origin's WHIP/WHEP request through (its cookies
    are gone by then: ``WebRtcCors`` runs first)."""
    return origin in allowed and PATH.match(scope["path"]) is not None
