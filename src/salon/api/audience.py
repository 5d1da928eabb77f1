"""Routes for the audience: the shared audience view, and the edge's listener counts."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, Field

from salon.api.deps import Ctx
from salon.api.media import Credential
from salon.api.problems import COMMON_PROBLEMS, problem_responses
from salon.api.schemas import SpaceId
from salon.domain.errors import Conflict, Forbidden, Unauthorized
from salon.domain.lifecycle import SpaceState
from salon.services.audience_view import AudienceFeed, AudienceFeeds, AudienceView

router = APIRouter(tags=["audience"], responses=COMMON_PROBLEMS)

JSON = "application/json"
#: A blocking answer names one version: any cache may share it (like a blocking reload).
BLOCKED_CACHE = "public, max-age=6"

Version = Annotated[
    int | None,
    Query(ge=0, le=2**53, description="Answer once this version exists (blocking reload)"),
]

_VIEW_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The audience view", "model": AudienceView},
    **problem_responses(409),
}


def _feeds(request: Request) -> AudienceFeeds:
    feeds: AudienceFeeds = request.app.state.audience_feeds
    return feeds


@router.get(
    "/api/spaces/{space_id}/hls/audience.json",
    response_class=Response,
    responses=_VIEW_RESPONSES,
)
async def audience_view(
    space_id: SpaceId, request: Request, ctx: Ctx, v: Version = None
) -> Response:
    """What a free space's audience sees: the stage, who speaks, the audience, reactions.

    The same bytes for everyone, so an edge or CDN shares them. ``?v=N`` waits (a few
    seconds at most) until version N exists, like a blocking playlist reload: follow it by
    asking for ``version + 1`` each time. A ticketed space answers under its credential.
    """
    feed = await _feeds(request).feed(space_id)
    if feed.ticketed:
        raise Forbidden("this space is ticketed: its audience view is under its audio credential")
    return await _answer(ctx.settings.audience_view_wait_seconds, feed, v)


@router.get(
    "/api/spaces/{space_id}/hls/{credential}/audience.json",
    response_class=Response,
    responses=_VIEW_RESPONSES,
)
async def audience_view_with_credential(
    space_id: SpaceId, credential: Credential, request: Request, ctx: Ctx, v: Version = None
) -> Response:
    """A ticketed space's audience view, opened by the audio credential in the path."""
    ctx.audio_credentials.check(credential, space_id=space_id)
    feed = await _feeds(request).feed(space_id)
    return await _answer(ctx.settings.audience_view_wait_seconds, feed, v)


async def _answer(wait: float, feed: AudienceFeed, version: int | None) -> Response:
    if feed.state == SpaceState.SCHEDULED:
        raise Conflict("this space has not started: its audience view opens when it goes live")
    cache = "no-cache"
    if version is not None:
        await feed.wait_for(version, timeout=wait)
        cache = BLOCKED_CACHE if feed.version >= version else "no-store"
    return Response(
        feed.body,
        media_type=JSON,
        headers={"Cache-Control": cache, "Access-Control-Allow-Origin": "*"},
    )


class ListenerReport(BaseModel):
    """What one edge answered since its last report: counted requests per space."""

    #: Which edge (each counts its own players).
    edge: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    #: How long the counts cover (since the previous report).
    seconds: float = Field(gt=0, le=300)
    requests: dict[
        Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,16}$")],
        Annotated[int, Field(ge=0, le=10_000_000)],
    ] = Field(max_length=10_000)


@router.post("/api/edge/listeners", status_code=204, response_class=Response)
async def edge_listeners(
    report: ListenerReport,
    ctx: Ctx,
    x_salon_edge_key: Annotated[str, Header(description="The edge secret")] = "",
) -> Response:
    """An edge reports the audio requests it answered (``domain/audience.py`` counts them
    into players). Only the edge, which holds the edge secret, may."""
    if not hmac.compare_digest(x_salon_edge_key.encode(), ctx.settings.edge_secret().encode()):
        raise Unauthorized("only the edge reports listeners (X-Salon-Edge-Key)")
    for space_id, requests in report.requests.items():
        ctx.audience.reported(space_id, requests, seconds=report.seconds, edge=report.edge)
    return Response(status_code=204)
