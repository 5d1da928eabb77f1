"""Dependencies routes share: the service context and who is asking."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from salon.domain.errors import Unauthorized
from salon.services import accounts
from salon.services.context import Context
from salon.store.models import User

SESSION_COOKIE = "salon_session"

_bearer = HTTPBearer(auto_error=False, description="A personal API token (salon_...)")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="Browser session")


async def get_context(request: Request) -> Context:
    # async: a plain def would cost a thread-pool hop on every request.
    ctx: Context = request.app.state.ctx
    return ctx


Ctx = Annotated[Context, Depends(get_context)]


async def authenticate(ctx: Context, *, bearer: str | None, cookie: str | None) -> User | None:
    """Resolve a bearer token or a session cookie to an account; neither means anonymous."""
    if bearer:
        return await accounts.user_for_api_token(ctx, token=bearer)
    if cookie:
        return await accounts.user_for_session(ctx, token=cookie)
    return None


async def optional_user(
    ctx: Ctx,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> User | None:
    return await authenticate(ctx, bearer=bearer.credentials if bearer else None, cookie=cookie)


async def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise Unauthorized("sign in, or send a personal API token as a bearer token")
    return user


MaybeUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]
