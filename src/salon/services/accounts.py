"""Accounts: registration, sign-in, sessions, personal API tokens, profiles."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from salon.domain import accounts as rules
from salon.domain.errors import Conflict, Forbidden, NotFound, Unauthorized
from salon.services.context import Context
from salon.services.queries import get_user_by_handle
from salon.store.models import ApiToken, Follow, User, WebSession
from salon.views import ApiTokenView, HostingEligibility, Me, NewApiToken, Profile

API_TOKEN_PREFIX = "salon_"
#: Touch ``last_used_at`` at most this often, so every API call is not a write.
_TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def register(
    ctx: Context, *, handle: str, display_name: str, password: str, by_operator: bool = False
) -> User:
    """Create an account. The first account on an instance becomes its admin (exactly one,
    however many sign up at once). With ``registration`` closed, only the operator
    (``by_operator``: the CLI) creates accounts."""
    if ctx.settings.registration == "closed" and not by_operator:
        raise Forbidden("sign-up is closed on this instance: an admin creates accounts")
    handle_key = rules.normalize_handle(handle)
    display_name = rules.check_display_name(display_name)
    password_hash = await ctx.hash_password(rules.check_password(password))
    try:
        return await _insert_user(ctx, handle, handle_key, display_name, password_hash)
    except Conflict:
        # Racing for the founder's seat (the unique index) and losing makes a member; any
        # other conflict (the same handle taken meanwhile) is found again and said plainly.
        return await _insert_user(ctx, handle, handle_key, display_name, password_hash)


async def _insert_user(
    ctx: Context, handle: str, handle_key: str, display_name: str, password_hash: str
) -> User:
    async with ctx.transaction() as tx:
        taken = await tx.session.scalar(select(User.id).where(User.handle_key == handle_key))
        if taken is not None:
            raise Conflict(f"the handle {handle!r} is taken")
        first = await tx.session.scalar(select(User.id).limit(1)) is None
        user = User(
            handle=handle,
            handle_key=handle_key,
            display_name=display_name,
            bio="",
            password_hash=password_hash,
            is_admin=first,
            founder=True if first else None,
            verified=False,
            can_sell_tickets=False,
            banned=False,
            created_at=ctx.clock.now(),
        )
        tx.session.add(user)
    return user


async def check_credentials(
    ctx: Context, *, handle: str, password: str, address: str = "unknown"
) -> User:
    """Return the account if the password matches; the error never says which part was wrong.

    Failed attempts are limited per client ``address`` and per account (``rate_limits``):
    a limited attempt is refused (429) before its password is checked.
    """
    account = handle.lower()
    await ctx.rate_limits.check_sign_in(account=account, address=address)
    try:
        return await _check_password(ctx, handle=handle, password=password)
    except Unauthorized:
        await ctx.rate_limits.failed_sign_in(account=account, address=address)
        raise


async def _check_password(ctx: Context, *, handle: str, password: str) -> User:
    async with ctx.transaction() as tx:
        user = (
            await tx.session.execute(select(User).where(User.handle_key == handle.lower()))
        ).scalar_one_or_none()
    stored = user.password_hash if user is not None else await _dummy_hash(ctx.hasher)
    try:
        await asyncio.to_thread(ctx.hasher.verify, stored, password)
    except (VerificationError, InvalidHashError):
        raise Unauthorized("wrong handle or password") from None
    if user is None:
        raise Unauthorized("wrong handle or password")
    if user.banned:
        raise Forbidden("this account is banned")
    return user


async def start_session(ctx: Context, *, user_id: int) -> str:
    """Open a browser session; returns the cookie value (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        tx.session.add(
            WebSession(
                token_hash=_digest(token),
                user_id=user_id,
                created_at=now,
                expires_at=now + timedelta(days=ctx.settings.session_days),
            )
        )
    return token


async def end_session(ctx: Context, *, token: str) -> None:
    async with ctx.transaction() as tx:
        await tx.session.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))


async def user_for_session(ctx: Context, *, token: str) -> User:
    async with ctx.transaction() as tx:
        row = await tx.session.get(WebSession, _digest(token))
        if row is None or row.expires_at <= ctx.clock.now():
            raise Unauthorized("your session has expired; sign in again")
        user = await tx.session.get(User, row.user_id)
    return _active(user)


async def user_for_api_token(ctx: Context, *, token: str) -> User:
    async with ctx.transaction() as tx:
        row = (
            await tx.session.execute(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
        ).scalar_one_or_none()
        if row is None:
            raise Unauthorized("unknown or revoked API token")
        now = ctx.clock.now()
        if row.last_used_at is None or now - row.last_used_at > _TOKEN_TOUCH_INTERVAL:
            row.last_used_at = now
        user = await tx.session.get(User, row.user_id)
    return _active(user)


def _active(user: User | None) -> User:
    if user is None:
        raise Unauthorized("this account no longer exists")
    if user.banned:
        raise Forbidden("this account is banned")
    return user


async def create_api_token(ctx: Context, *, user: User, name: str) -> NewApiToken:
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with ctx.transaction() as tx:
        row = ApiToken(
            user_id=user.id,
            name=rules.check_token_label(name),
            token_hash=_digest(token),
            created_at=ctx.clock.now(),
            last_used_at=None,
        )
        tx.session.add(row)
        await tx.session.flush()
    return NewApiToken(
        id=row.id, name=row.name, created_at=row.created_at, last_used_at=None, token=token
    )


async def list_api_tokens(ctx: Context, *, user: User) -> list[ApiTokenView]:
    async with ctx.transaction() as tx:
        rows = await tx.session.execute(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
        )
        return [ApiTokenView.model_validate(row) for row in rows.scalars()]


async def revoke_api_token(ctx: Context, *, user: User, token_id: int) -> None:
    async with ctx.transaction() as tx:
        row = await tx.session.get(ApiToken, token_id)
        if row is None or row.user_id != user.id:
            raise NotFound(f"no API token with id {token_id}")
        await tx.session.delete(row)


async def _counts(session: AsyncSession, user_id: int) -> tuple[int, int]:
    followers = await session.scalar(
        select(func.count()).select_from(Follow).where(Follow.followee_id == user_id)
    )
    following = await session.scalar(
        select(func.count()).select_from(Follow).where(Follow.follower_id == user_id)
    )
    return int(followers or 0), int(following or 0)


async def profile(ctx: Context, *, handle: str, viewer: User | None) -> Profile:
    async with ctx.transaction() as tx:
        user = await get_user_by_handle(tx.session, handle)
        followers, following = await _counts(tx.session, user.id)
        follow = None if viewer is None else await tx.session.get(Follow, (viewer.id, user.id))
    return Profile(
        id=user.id,
        handle=user.handle,
        display_name=user.display_name,
        verified=user.verified,
        bio=user.bio,
        created_at=user.created_at,
        followers_count=followers,
        following_count=following,
        followed_by_me=follow is not None,
        live_notifications=None if follow is None else follow.notify,
    )


async def me(ctx: Context, *, user: User) -> Me:
    async with ctx.transaction() as tx:
        followers, following = await _counts(tx.session, user.id)
    return Me(
        id=user.id,
        handle=user.handle,
        display_name=user.display_name,
        verified=user.verified,
        bio=user.bio,
        created_at=user.created_at,
        followers_count=followers,
        following_count=following,
        is_admin=user.is_admin,
        can_sell_tickets=user.can_sell_tickets,
        adult_attested=user.adult_attested_at is not None,
        notify_live=user.notify_live,
    )


async def update_profile(
    ctx: Context,
    *,
    user: User,
    display_name: str | None,
    bio: str | None,
    adult_attested: bool | None = None,
    notify_live: bool | None = None,
) -> Me:
    """Change one's name or bio; attest being 18 or older (needed to sell tickets), or not;
    be told when people one follows go live, or not."""
    async with ctx.transaction() as tx:
        row = await tx.session.get(User, user.id)
        assert row is not None
        if display_name is not None:
            row.display_name = rules.check_display_name(display_name)
        if bio is not None:
            row.bio = rules.check_bio(bio)
        if adult_attested is not None and adult_attested != (row.adult_attested_at is not None):
            row.adult_attested_at = ctx.clock.now() if adult_attested else None
        if notify_live is not None:
            row.notify_live = notify_live
    return await me(ctx, user=row)


#: One throwaway hash per cost setting (see ``_dummy_hash``).
_DUMMY_HASHES: dict[tuple[int, int, int], str] = {}


async def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash made with the configured cost, checked when no account has the handle: an
    unknown handle then takes as long as a wrong password (a fixed hash at the default cost
    would tell them apart by time whenever the operator tunes the cost)."""
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    found = _DUMMY_HASHES.get(key)
    if found is None:
        found = await asyncio.to_thread(hasher.hash, secrets.token_urlsafe(16))
        _DUMMY_HASHES[key] = found
    return found


async def hosting(ctx: Context, *, user: User) -> HostingEligibility:
    """The follower rule for hosting, as it stands for ``user`` now."""
    async with ctx.transaction() as tx:
        followers, _ = await _counts(tx.session, user.id)
    needed = ctx.settings.host_min_followers
    to_go = rules.followers_to_go(followers=followers, min_followers=needed, is_admin=user.is_admin)
    return HostingEligibility(
        can_host=to_go == 0,
        followers=followers,
        followers_needed=needed,
        to_go=to_go,
        exempt=user.is_admin,
    )
