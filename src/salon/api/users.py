"""Routes for other people: profiles and the follow graph (admin changes: ``api/admin.py``)."""

from __future__ import annotations

from fastapi import APIRouter, status

from salon.api.deps import Ctx, CurrentUser, MaybeUser
from salon.api.problems import COMMON_PROBLEMS
from salon.api.schemas import Handle, Limit, Offset
from salon.services import accounts, social
from salon.views import Profile, UserSummary

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
