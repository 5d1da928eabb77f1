"""What only admins may do: find people; verify, grant ticket selling, ban, promote; read
the instance's settings."""

from __future__ import annotations

from sqlalchemy import delete, func, or_, select
from sqlalchemy.engine import make_url

from salon.config import Settings
from salon.domain.accounts import DISPLAY_NAME_MAX
from salon.domain.errors import Conflict, Forbidden
from salon.domain.lifecycle import SpaceState
from salon.domain.text import clean
from salon.services import presence, spaces
from salon.services.context import Context, Tx
from salon.services.queries import find_participant, get_space, get_user_by_handle
from salon.store.models import ApiToken, Participant, Space, User, WebSession
from salon.views import AdminUserPage, AdminUserView, InstanceSetting


def check_admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden("only an admin can do that")


async def find_users(
    ctx: Context, *, actor: User, query: str, page: int, per_page: int
) -> AdminUserPage:
    """Accounts whose handle or display name contains ``query`` (any case; every account
    when empty), by handle, one page at a time."""
    check_admin(actor)
    query = clean(query, what="search", max_length=DISPLAY_NAME_MAX, required=False)
    match = (
        or_(
            User.handle_key.contains(query.lower(), autoescape=True),
            User.display_name.icontains(query, autoescape=True),
        )
        if query
        else None
    )
    async with ctx.transaction() as tx:
        counted = select(func.count()).select_from(User)
        listed = select(User).order_by(User.handle_key)
        if match is not None:
            counted = counted.where(match)
            listed = listed.where(match)
        total = (await tx.session.execute(counted)).scalar_one()
        rows = await tx.session.execute(listed.limit(per_page).offset((page - 1) * per_page))
        return AdminUserPage(
            users=[AdminUserView.model_validate(user) for user in rows.scalars()],
            page=page,
            per_page=per_page,
            total=total,
        )


async def update_user(
    ctx: Context,
    *,
    actor: User,
    handle: str,
    verified: bool | None = None,
    can_sell_tickets: bool | None = None,
    banned: bool | None = None,
    is_admin: bool | None = None,
) -> AdminUserView:
    """Change an account's standing. Banning signs the account out everywhere."""
    check_admin(actor)
    async with ctx.transaction() as tx:
        user = await get_user_by_handle(tx.session, handle)
        if user.id == actor.id and (banned or is_admin is False):
            raise Conflict("an admin cannot ban or demote themself")
        if verified is not None:
            user.verified = verified
        if can_sell_tickets is not None:
            user.can_sell_tickets = can_sell_tickets
        if is_admin is not None:
            user.is_admin = is_admin
        if banned is not None:
            user.banned = banned
            if banned:
                await tx.session.execute(delete(WebSession).where(WebSession.user_id == user.id))
                await tx.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
                await _out_of_every_space(ctx, tx, user)
        return AdminUserView.model_validate(user)


async def _out_of_every_space(ctx: Context, tx: Tx, user: User) -> None:
    """A banned person's live presence ends at once: they leave every space they are in
    (their event streams close, their WHIP connections hang up), and a space they host
    live ends."""
    now = ctx.clock.now()
    rows = await tx.session.execute(
        select(Participant.space_id).where(
            Participant.user_id == user.id, Participant.present.is_(True)
        )
    )
    hosted = await tx.session.execute(
        select(Space.id).where(Space.host_id == user.id, Space.state == SpaceState.LIVE)
    )
    for space_id in sorted(set(rows.scalars()) | set(hosted.scalars())):
        space = await get_space(tx.session, space_id, lock=True)
        if space.host_id == user.id and space.state == SpaceState.LIVE:
            await spaces.finish(tx, space, reason="host_left", now=now)
            continue
        participant = await find_participant(tx.session, space_id, user.id)
        if participant is not None and participant.present:
            await presence.let_go(ctx, tx, participant, reason="banned", now=now)


async def promote(ctx: Context, *, handle: str) -> AdminUserView:
    """Make ``handle`` an admin (for the operator's CLI, which needs no signed-in admin)."""
    async with ctx.transaction() as tx:
        user = await get_user_by_handle(tx.session, handle)
        user.is_admin = True
        return AdminUserView.model_validate(user)


def instance(actor: User, settings: Settings) -> list[InstanceSetting]:
    """The settings an admin looks for, each with the variable that sets it. Admins only."""
    check_admin(actor)
    return instance_settings(settings)


def instance_settings(settings: Settings) -> list[InstanceSetting]:
    """What an operator would look for, and never a secret: URLs that may carry passwords
    (database, Redis) and TURN credentials are said by kind or count only."""

    def shown(key: str, value: str | int | float | bool | list[str], about: str) -> InstanceSetting:
        return InstanceSetting(key=key, env=f"SALON_{key.upper()}", value=value, about=about)

    s = settings
    return [
        shown(
            "registration",
            s.registration,
            "who may sign up: open (anyone) or closed (accounts from `salon user create`)",
        ),
        shown(
            "host_min_followers",
            s.host_min_followers,
            "followers needed to host a space (admins are exempt; 0: anyone)",
        ),
        shown("schedule_max_days", s.schedule_max_days, "how far ahead a space may be scheduled"),
        shown(
            "host_grace_seconds",
            s.host_grace_seconds,
            "how long a live space waits for its host's connection to come back",
        ),
        shown("recording_days", s.recording_days, "how long recordings are kept"),
        shown(
            "payment_provider",
            s.payment_provider,
            "who takes ticket payments: the built-in test checkout, or Stripe",
        ),
        shown(
            "ticket_hold_seconds",
            s.ticket_hold_seconds,
            "how long a started purchase holds its seat",
        ),
        shown(
            "audio_credential_seconds",
            s.audio_credential_seconds,
            "how long a ticketed space's audio credential opens its audio",
        ),
        shown(
            "public_url",
            s.public_url or "(taken from each request)",
            "this instance's public base URL",
        ),
        shown(
            "database_url",
            make_url(s.database_url).get_backend_name(),
            "the database (its kind; the URL is not shown)",
        ),
        shown(
            "redis_url",
            "set: several nodes" if s.redis_url else "not set: one process",
            "Redis shared by every node (the URL is not shown)",
        ),
        shown(
            "ice_servers",
            f"{len(s.ice_servers)} configured",
            "STUN/TURN servers for speakers (credentials are not shown)",
        ),
        shown(
            "allowed_origins",
            list(s.allowed_origins),
            "origins besides the app's own allowed to send state-changing requests",
        ),
        shown("session_days", s.session_days, "how long a sign-in lasts"),
        shown(
            "reaction_aggregate_above",
            s.reaction_aggregate_above,
            "above this audience, reactions travel as counts per emoji",
        ),
    ]
