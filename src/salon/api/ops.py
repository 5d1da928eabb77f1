"""Operational endpoints: health and Prometheus metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from salon.api.deps import Ctx
from salon.api.problems import OUTAGE_RETRY_AFTER_SECONDS
from salon.metrics import TALLY
from salon.services.context import Context
from salon.views import View

router = APIRouter(tags=["operations"])


async def _select_one(ctx: Context) -> None:
    async with ctx.sessions() as session:
        await session.execute(text("SELECT 1"))


def _forget(task: asyncio.Future[None]) -> None:
    """Collect a late probe's outcome (it fails or ends on its own timeouts)."""
    if not task.cancelled():
        task.exception()


class Health(View):
    status: str
    database: str


@router.get(
    "/healthz",
    response_class=Response,
    responses={
        200: {"description": "Up", "model": Health},
        503: {"description": "A dependency is down", "model": Health},
    },
)
async def health(ctx: Ctx) -> Response:
    """Liveness and database reachability: 200 ``ok``, or 503 ``down`` within the database
    timeout (``SALON_DATABASE_TIMEOUT_SECONDS``), never a hang."""
    # The probe runs on its own: a cancelled database call can hang in its own clean-up on a
    # dead connection, so the answer does not wait for it past the timeout.
    probe = asyncio.ensure_future(_select_one(ctx))
    done, _ = await asyncio.wait({probe}, timeout=ctx.settings.database_timeout_seconds)
    if not done:
        probe.add_done_callback(_forget)
    if not done or probe.exception() is not None:
        body = Health(status="down", database="down")
        return Response(
            body.model_dump_json(),
            status_code=503,
            media_type="application/json",
            headers={"Retry-After": str(OUTAGE_RETRY_AFTER_SECONDS), "Cache-Control": "no-store"},
        )
    return Response(
        Health(status="ok", database="ok").model_dump_json(), media_type="application/json"
    )


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    TALLY.flush()  # what the hot path counted in bulk, up to now
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
