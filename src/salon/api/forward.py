"""Forwarding a space's media requests (WHIP, LL-HLS) to the node that runs its media.

Any node answers any request, so the edge and load balancers in front need no idea of who
runs what: a node that does not run a space's media passes the request on, over a pooled
HTTP client, to the one that does (its lease names where; ``ownership.py``). Behind the
shipped edge that costs the origin one extra hop per cached object, not per listener.
A forwarded request is marked, so two nodes that disagree cannot pass one back and forth.
"""

from __future__ import annotations

import httpx
from fastapi import Request, Response

from salon.api.hls_live import EDGE_HEADER
from salon.domain.errors import Unavailable

FORWARDED = "x-salon-forwarded"
#: What the owner needs of the request, and what the client needs of its answer.
_REQUEST_HEADERS = frozenset(
    {"authorization", "cookie", "content-type", "x-forwarded-for", "user-agent", EDGE_HEADER}
)
_ANSWER_HEADERS = frozenset(
    {"content-type", "cache-control", "location", "access-control-allow-origin", "retry-after"}
)


class Forwarder:
    def __init__(self, *, timeout: float = 15.0) -> None:
        # Blocking playlist reloads wait at the owner for up to three target durations.
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=2.0),
            limits=httpx.Limits(max_connections=500, max_keepalive_connections=100),
        )

    async def forward(self, request: Request, owner_url: str) -> Response:
        if request.headers.get(FORWARDED):
            raise Unavailable("this space's media is moving between nodes: try again")
        headers = {k: v for k, v in request.headers.items() if k in _REQUEST_HEADERS}
        headers[FORWARDED] = "1"
        client = request.client
        if client is not None and "x-forwarded-for" not in headers:
            headers["x-forwarded-for"] = client.host
        url = owner_url.rstrip("/") + request.url.path
        try:
            answer = await self._client.request(
                request.method,
                url,
                params=request.query_params,
                headers=headers,
                content=await request.body(),
            )
        except httpx.HTTPError:
            raise Unavailable(
                "the node that runs this space's media did not answer: try again in a moment"
            ) from None
        return Response(
            answer.content,
            status_code=answer.status_code,
            headers={k: v for k, v in answer.headers.items() if k in _ANSWER_HEADERS},
        )

    async def close(self) -> None:
        await self._client.aclose()
