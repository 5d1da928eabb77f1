"""Reactions: any present person sends one of the fixed emoji, within the rate limit."""

from __future__ import annotations

from salon.domain import lifecycle
from salon.domain.errors import Forbidden
from salon.domain.reactions import Emoji, parse_emoji
from salon.events.types import ReactionSent
from salon.services.context import Context
from salon.services.queries import find_participant, get_space
from salon.store.models import Reaction, User


async def react(ctx: Context, *, actor: User, space_id: str, emoji: str) -> Emoji:
    chosen = parse_emoji(emoji)
    now = ctx.clock.now()
    async with ctx.transaction() as tx:
        space = await get_space(tx.session, space_id)
        lifecycle.check_live(space.state)
        me = await find_participant(tx.session, space.id, actor.id)
        if me is None or not me.present:
            raise Forbidden("join the space to react")
        ctx.reaction_limiter.hit(f"{space.id}:{actor.id}", now=now.timestamp())
        tx.session.add(
            Reaction(space_id=space.id, user_id=actor.id, emoji=chosen.value, created_at=now)
        )
        tx.emit(ReactionSent(space_id=space.id, at=now, user_id=actor.id, emoji=chosen))
    return chosen
