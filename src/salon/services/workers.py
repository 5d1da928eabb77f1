"""A node's background workers that wake on a kick (a commit that gave them work) and on
every sweep interval (retries that came due, work another node left)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from salon.services.context import Context

log = logging.getLogger(__name__)


async def kicked_forever(
    ctx: Context, kick: asyncio.Event, work: Callable[[], Awaitable[object]], what: str
) -> None:
    """Run ``work`` after each ``kick`` and at least every sweep interval; a failure is
    logged and tried again at the next wake."""
    while True:
        try:
            async with asyncio.timeout(ctx.settings.sweep_interval_seconds):
                await kick.wait()
        except TimeoutError:
            pass
        kick.clear()
        try:
            await work()
        except Exception:
            log.exception("%s failed; will try again", what)
