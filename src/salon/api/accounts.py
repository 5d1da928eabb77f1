"""Routes for one's own account: register, sign in/out, profile, API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Cookie, Request, Response, status

from salon.api.deps import SESSION_COOKIE, Ctx, CurrentUser
from salon.api.links import TOKEN_LINKS
from salon.api.problems import COMMON_PROBLEMS
from salon.api.schemas import ApiTokenIn, ProfileUpdateIn, RegisterIn, SignInIn, TokenId
from salon.services import accounts
from salon.services.context import Context
from salon.views import ApiTokenView, HostingEligibility, Me, NewApiToken

router = APIRouter(prefix="/api", tags=["accounts"], responses=COMMON_PROBLEMS)


def _set_session_cookie(response: Response, ctx: Context, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=ctx.settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=ctx.settings.session_cookie_secure,
        path="/",
    )


@router.post("/accounts", status_code=status.HTTP_201_CREATED)
async def register(body: RegisterIn, ctx: Ctx, response: Response) -> Me:
    """Create an account and sign in. The first account on an instance is its admin."""
    user = await accounts.register(
        ctx, handle=body.handle, display_name=body.display_name, password=body.password
    )
    _set_session_cookie(response, ctx, await accounts.start_session(ctx, user_id=user.id))
    return await accounts.me(ctx, user=user)


@router.post("/session")
async def sign_in(body: SignInIn, ctx: Ctx, request: Request, response: Response) -> Me:
    """Sign in with handle and password; sets an HttpOnly session cookie.

    Failed sign-ins are limited per client address and per account (429 with Retry-After).
    """
    user = await accounts.check_credentials(
        ctx,
        handle=body.handle,
        password=body.password,
        # uvicorn takes it from X-Forwarded-For when the peer is in SALON_TRUSTED_PROXIES.
        address=request.client.host if request.client else "unknown",
    )
    _set_session_cookie(response, ctx, await accounts.start_session(ctx, user_id=user.id))
    return await accounts.me(ctx, user=user)


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out(
    ctx: Ctx,
    response: Response,
    salon_session: Annotated[str | None, Cookie(include_in_schema=False)] = None,
) -> None:
    """Sign out this browser. Signing out when not signed in is fine."""
    if salon_session:
        await accounts.end_session(ctx, token=salon_session)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me")
async def get_me(ctx: Ctx, user: CurrentUser) -> Me:
    return await accounts.me(ctx, user=user)


@router.get("/me/hosting")
async def get_hosting(ctx: Ctx, user: CurrentUser) -> HostingEligibility:
    """Whether you may host a space now: your followers, the instance's rule, how many to go."""
    return await accounts.hosting(ctx, user=user)


@router.patch("/me")
async def update_me(body: ProfileUpdateIn, ctx: Ctx, user: CurrentUser) -> Me:
    return await accounts.update_profile(
        ctx,
        user=user,
        display_name=body.display_name,
        bio=body.bio,
        adult_attested=body.adult_attested,
        notify_live=body.notify_live,
    )


@router.get("/me/tokens")
async def list_tokens(ctx: Ctx, user: CurrentUser) -> list[ApiTokenView]:
    return await accounts.list_api_tokens(ctx, user=user)


@router.post("/me/tokens", status_code=status.HTTP_201_CREATED, responses=TOKEN_LINKS)
async def create_token(body: ApiTokenIn, ctx: Ctx, user: CurrentUser) -> NewApiToken:
    """Create a personal API token for scripts and bots; its secret is shown only now."""
    return await accounts.create_api_token(ctx, user=user, name=body.name)


@router.delete("/me/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_token(token_id: TokenId, ctx: Ctx, user: CurrentUser) -> None:
    await accounts.revoke_api_token(ctx, user=user, token_id=token_id)
