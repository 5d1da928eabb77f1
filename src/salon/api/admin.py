"""Routes only admins may use: find people, change their standing, read the instance's
settings. Live spaces with their audiences are ``GET /api/spaces?state=live``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from salon.api.deps import Ctx, CurrentUser
from salon.api.problems import COMMON_PROBLEMS
from salon.api.schemas import AdminUserUpdateIn, Handle
from salon.domain.accounts import DISPLAY_NAME_MAX
from salon.services import admin
from salon.views import AdminUserPage, AdminUserView, InstanceSetting

router = APIRouter(prefix="/api/admin", tags=["admin"], responses=COMMON_PROBLEMS)

#: Longest search: a display name is at most 50 characters.
QUERY_MAX = DISPLAY_NAME_MAX
PAGE_MAX = 10_000
PER_PAGE_MAX = 100
NO_CONTROL_CHARACTERS = r"^[^\x00-\x08\x0b-\x1f\x7f]*$"


@router.get("/users")
async def find_users(
    ctx: Ctx,
    user: CurrentUser,
    q: Annotated[
        str,
        Query(
            max_length=QUERY_MAX,
            pattern=NO_CONTROL_CHARACTERS,
            description="Part of a handle or display name",
        ),
    ] = "",
    page: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 1,
    per_page: Annotated[int, Query(ge=1, le=PER_PAGE_MAX)] = 20,
) -> AdminUserPage:
    """Admins only: accounts whose handle or display name contains ``q``, by handle."""
    return await admin.find_users(ctx, actor=user, query=q, page=page, per_page=per_page)


@router.patch("/users/{handle}")
async def update_user(
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


@router.get("/instance")
async def instance(ctx: Ctx, user: CurrentUser) -> list[InstanceSetting]:
    """Admins only: the settings an operator looks for, each with the environment variable
    that sets it. Never a secret."""
    return admin.instance(user, ctx.settings)
