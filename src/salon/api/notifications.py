"""Routes for the bell: a person's notifications, waiting for the next, marking them read;
and whether a follow tells its follower when the host goes live."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from salon.api.deps import Ctx, CurrentUser
from salon.api.problems import COMMON_PROBLEMS
from salon.api.schemas import FollowSettingsIn, Handle, MarkReadIn
from salon.services import notifications
from salon.views import NotificationPage

router = APIRouter(prefix="/api", tags=["notifications"], responses=COMMON_PROBLEMS)

PageSize = Annotated[int, Query(ge=1, le=50, description="At most this many, newest first.")]
NotificationId = Annotated[int, Query(ge=0, le=2**62)]
#: A long-poll shorter than common proxies' idle timeouts (60 s).
WaitSeconds = Annotated[float, Query(ge=0, le=30, description="Seconds to wait for news.")]


@router.get("/me/notifications")
async def list_notifications(
    ctx: Ctx, user: CurrentUser, limit: PageSize = 20, before: NotificationId | None = None
) -> NotificationPage:
    """The bell: the latest notifications (kept 30 days), the unread count, the newest id."""
    return await notifications.page(ctx, user=user, limit=limit, before=before)


@router.get("/me/notifications/wait")
async def wait_for_notifications(
    ctx: Ctx,
    user: CurrentUser,
    after: NotificationId,
    timeout: WaitSeconds = 25,  # noqa: ASYNC109 - the long-poll's own bound, a query
    limit: PageSize = 20,
) -> NotificationPage:
    """Notifications newer than ``after``: at once if there are any, else as soon as one
    arrives, or empty after ``timeout`` seconds. Loop it to keep a bell live."""
    return await notifications.wait(ctx, user=user, after=after, timeout=timeout, limit=limit)


@router.post("/me/notifications/read")
async def mark_read(body: MarkReadIn, ctx: Ctx, user: CurrentUser) -> dict[str, int]:
    """Mark every notification up to ``up_to`` read; answers the unread count left."""
    return {"unread": await notifications.mark_read(ctx, user=user, up_to=body.up_to)}


@router.patch("/users/{handle}/follow", tags=["people"])
async def follow_settings(
    handle: Handle, body: FollowSettingsIn, ctx: Ctx, user: CurrentUser
) -> dict[str, bool]:
    """Be told when a person you follow goes live, or not (404 when you do not follow)."""
    on = await notifications.set_follow_notify(ctx, actor=user, handle=handle, on=body.notify)
    return {"notify": on}
