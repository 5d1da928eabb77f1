"""Operational endpoints: health and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from salon.api.deps import Ctx
from salon.views import View

router = APIRouter(tags=["operations"])


class Health(View):
    status: str
    database: str


@router.get("/healthz")
async def health(ctx: Ctx) -> Health:
    """Liveness and database reachability."""
    async with ctx.sessions() as session:
        await session.execute(text("SELECT 1"))
    return Health(status="ok", database="ok")


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
