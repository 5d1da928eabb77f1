"""Routes for other people: profiles and the follow graph; admin changes to accounts."""

from __future__ import annotations

from fastapi import APIRouter, status

from salon.api.deps import Ctx, CurrentUser, MaybeUser
from salon.api.problems import COMMON_PROBLEMS
from salon.api.schemas import AdminUserUpdateIn, Handle, Limit, Offset
from salon.services import accounts, admin, social
from salon.views import AdminUserView, Profile, UserSummary

router = APIRouter(prefix="/api", tags=["people"], responses=COMMON_PROBLEMS)


@router.get("/users/{handle}")
async def get_profile(handle: Handle, ctx: Ctx, viewer: MaybeUser) -> Profile:
    return await accounts.profile(ctx, handle=handle, viewer=viewer)


@router.put("/users/{handle}/follow", status_code=status.HTTP_204_NO_CONTENT)
async def follow(handle: Handle, ctx: Ctx, user: CurrentUser) -> None:
    await social.follow(ctx, actor=user, handle=handle)


@router.delete("/users/{handle}/follow", status_code=status.HTTP_204_NO_CONTENT)
async def unfollow(handle: Handle, ctx: Ctx, user: CurrentUser) -> None:
    await social.unfollow(ctx, actor=user, handle=handle)


@router.get("/users/{handle}/followers")
async def followers(
    handle: Handle, ctx: Ctx, limit: Limit = 50, offset: Offset = 0
) -> list[UserSummary]:
    return await social.followers(ctx, handle=handle, limit=limit, offset=offset)


@router.get("/users/{handle}/following")
async def following(
    handle: Handle, ctx: Ctx, limit: Limit = 50, offset: Offset = 0
) -> list[UserSummary]:
    return await social.following(ctx, handle=handle, limit=limit, offset=offset)


@router.patch("/admin/users/{handle}", tags=["admin"])
async def admin_update_user(
    handle: Handle, body: AdminUserUpdateIn, ctx: Ctx, user: CurrentUser
) -> AdminUserView:
    """Admins only: set the verified badge, grant ticket selling, ban, or make admin."""
    return await admin.update_user(
        ctx,
        actor=user,
        handle=handle,
        verified=body.verified,
        can_sell_tickets=body.can_sell_tickets,
        banned=body.banned,
        is_admin=body.is_admin,
    )
