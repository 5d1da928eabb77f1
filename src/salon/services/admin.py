"""What only admins may do: verify, grant ticket selling, ban, promote."""

from __future__ import annotations

from sqlalchemy import delete, select

from salon.domain.errors import Conflict, Forbidden
from salon.domain.lifecycle import SpaceState
from salon.services import presence, spaces
from salon.services.context import Context, Tx
from salon.services.queries import find_participant, get_space, get_user_by_handle
from salon.store.models import ApiToken, Participant, Space, User, WebSession
from salon.views import AdminUserView


def check_admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden("only an admin can do that")


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
