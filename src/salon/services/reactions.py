"""Reactions: any present person sends one of the fixed emoji, within the rate limit.

A small audience's reactions go out one by one (everyone sees who reacted); above
``reaction_aggregate_above`` listeners they are tallied and go out as one ``reaction_burst``
per space per ``reaction_burst_seconds``, counted per emoji. Every reaction is stored either
way (the replay's timeline shows them).
"""

from __future__ import annotations

from salon.domain import lifecycle
from salon.domain.errors import Forbidden
from salon.domain.reactions import Emoji, parse_emoji
from salon.events.types import ReactionBurst, ReactionSent
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
        await ctx.rate_limits.hit_reaction(f"{space.id}:{actor.id}", now=now.timestamp())
        tx.session.add(
            Reaction(space_id=space.id, user_id=actor.id, emoji=chosen.value, created_at=now)
        )
        crowd = ctx.audience.announced(space.id) > ctx.settings.reaction_aggregate_above
        if not crowd:
            tx.emit(ReactionSent(space_id=space.id, at=now, user_id=actor.id, emoji=chosen))
    if crowd:
        ctx.reaction_tally.add(space_id, chosen)
    return chosen


async def send_bursts(ctx: Context) -> None:
    """Publish each space's tallied reactions as one burst (called every burst window)."""
    now = ctx.clock.now()
    for space_id, counts in ctx.reaction_tally.drain().items():
        await ctx.bus.publish(
            ReactionBurst(
                space_id=space_id,
                at=now,
                window_seconds=ctx.settings.reaction_burst_seconds,
                counts=counts,
            )
        )
