"""Routes for spaces: lifecycle, discovery, reminders, presence, reactions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from salon.api.deps import Ctx, CurrentUser, MaybeUser
from salon.api.links import NEW_SPACE_LINKS, SPACE_LINKS
from salon.api.problems import COMMON_PROBLEMS
from salon.api.schemas import Limit, ReactionIn, RescheduleIn, SpaceId, SpaceIn
from salon.domain.reactions import Emoji
from salon.services import presence, reactions, spaces
from salon.views import ParticipantView, SpaceView, View

router = APIRouter(prefix="/api/spaces", tags=["spaces"], responses=COMMON_PROBLEMS)


class ReactionOut(View):
    emoji: Emoji


@router.post("", status_code=status.HTTP_201_CREATED, responses=NEW_SPACE_LINKS)
async def create_space(body: SpaceIn, ctx: Ctx, user: CurrentUser) -> SpaceView:
    """Start a space now, or schedule it up to 14 days ahead.

    With ``ticket`` ({price_cents, cap}) the space is ticketed: it must be scheduled, and the
    host eligible to sell (see ``GET /api/me/ticket-eligibility``).
    """
    return await spaces.create_space(
        ctx,
        actor=user,
        title=body.title,
        topics=body.topics,
        scheduled_for=body.scheduled_for,
        recording=body.recording,
        ticket_price_cents=body.ticket.price_cents if body.ticket else None,
        ticket_cap=body.ticket.cap if body.ticket else None,
    )


@router.get("")
async def list_spaces(
    ctx: Ctx,
    viewer: MaybeUser,
    state: Annotated[Literal["live", "scheduled"], Query()] = "live",
    limit: Limit = 50,
) -> list[SpaceView]:
    """Live spaces (hosts you follow first, then by audience) or scheduled ones (soonest first)."""
    if state == "live":
        return await spaces.list_live(ctx, viewer=viewer, limit=limit)
    return await spaces.list_scheduled(ctx, viewer=viewer, limit=limit)


@router.get("/{space_id}", responses=SPACE_LINKS)
async def get_space(space_id: SpaceId, ctx: Ctx, viewer: MaybeUser) -> SpaceView:
    return await spaces.get(ctx, space_id=space_id, viewer=viewer)


@router.post("/{space_id}/start")
async def start_space(space_id: SpaceId, ctx: Ctx, user: CurrentUser) -> SpaceView:
    return await spaces.start_space(ctx, actor=user, space_id=space_id)


@router.post("/{space_id}/end")
async def end_space(space_id: SpaceId, ctx: Ctx, user: CurrentUser) -> SpaceView:
    return await spaces.end_space(ctx, actor=user, space_id=space_id)


@router.post("/{space_id}/cancel")
async def cancel_space(space_id: SpaceId, ctx: Ctx, user: CurrentUser) -> SpaceView:
    return await spaces.cancel_space(ctx, actor=user, space_id=space_id)


@router.post("/{space_id}/reschedule")
async def reschedule_space(
    space_id: SpaceId, body: RescheduleIn, ctx: Ctx, user: CurrentUser
) -> SpaceView:
    """Move a scheduled space (host only); everyone with a reminder is told."""
    return await spaces.reschedule_space(
        ctx, actor=user, space_id=space_id, scheduled_for=body.scheduled_for
    )


@router.put("/{space_id}/reminder")
async def set_reminder(space_id: SpaceId, ctx: Ctx, user: CurrentUser) -> SpaceView:
    return await spaces.set_reminder(ctx, actor=user, space_id=space_id, on=True)


@router.delete("/{space_id}/reminder")
async def clear_reminder(space_id: SpaceId, ctx: Ctx, user: CurrentUser) -> SpaceView:
    return await spaces.set_reminder(ctx, actor=user, space_id=space_id, on=False)


@router.post("/{space_id}/join")
async def join(space_id: SpaceId, ctx: Ctx, user: CurrentUser) -> ParticipantView:
    """Enter a live space as a listener."""
    return await presence.join(ctx, actor=user, space_id=space_id)


@router.post("/{space_id}/leave", status_code=status.HTTP_204_NO_CONTENT)
async def leave(space_id: SpaceId, ctx: Ctx, user: CurrentUser) -> None:
    await presence.leave(ctx, actor=user, space_id=space_id)


@router.get("/{space_id}/participants")
async def list_participants(space_id: SpaceId, ctx: Ctx) -> list[ParticipantView]:
    """Everyone present: stage first, then raised hands, then the audience."""
    return await presence.list_participants(ctx, space_id=space_id)


@router.post("/{space_id}/reactions", status_code=status.HTTP_201_CREATED)
async def react(space_id: SpaceId, body: ReactionIn, ctx: Ctx, user: CurrentUser) -> ReactionOut:
    """Send a reaction everyone present sees; rate-limited per person (429 beyond it)."""
    emoji = await reactions.react(ctx, actor=user, space_id=space_id, emoji=body.emoji)
    return ReactionOut(emoji=emoji)
