"""Routes for the stage. Each is one service call; the service decides who may."""

from __future__ import annotations

from fastapi import APIRouter, status

from salon.api.deps import Ctx, CurrentUser
from salon.api.links import HAND_LINKS
from salon.api.problems import COMMON_PROBLEMS
from salon.api.schemas import SpaceId, UserId
from salon.services import stage
from salon.views import ParticipantView

router = APIRouter(prefix="/api/spaces/{space_id}", tags=["stage"], responses=COMMON_PROBLEMS)


@router.post("/hand", responses=HAND_LINKS)
async def raise_hand(space_id: SpaceId, ctx: Ctx, user: CurrentUser) -> ParticipantView:
    """Request to speak."""
    return await stage.raise_hand(ctx, actor=user, space_id=space_id)


@router.delete("/hand")
async def lower_hand(space_id: SpaceId, ctx: Ctx, user: CurrentUser) -> ParticipantView:
    """Withdraw a request to speak."""
    return await stage.lower_hand(ctx, actor=user, space_id=space_id)


@router.post("/invitation/accept")
async def accept_invitation(space_id: SpaceId, ctx: Ctx, user: CurrentUser) -> ParticipantView:
    return await stage.answer_invitation(ctx, actor=user, space_id=space_id, accept=True)


@router.post("/invitation/decline")
async def decline_invitation(space_id: SpaceId, ctx: Ctx, user: CurrentUser) -> ParticipantView:
    return await stage.answer_invitation(ctx, actor=user, space_id=space_id, accept=False)


@router.post("/stage/leave")
async def leave_stage(space_id: SpaceId, ctx: Ctx, user: CurrentUser) -> ParticipantView:
    """Step down from the stage to the audience."""
    return await stage.leave_stage(ctx, actor=user, space_id=space_id)


@router.post("/participants/{user_id}/approve")
async def approve(
    space_id: SpaceId, user_id: UserId, ctx: Ctx, user: CurrentUser
) -> ParticipantView:
    return await stage.approve(ctx, actor=user, space_id=space_id, user_id=user_id)


@router.post("/participants/{user_id}/deny")
async def deny(space_id: SpaceId, user_id: UserId, ctx: Ctx, user: CurrentUser) -> ParticipantView:
    return await stage.deny(ctx, actor=user, space_id=space_id, user_id=user_id)


@router.post("/participants/{user_id}/invite")
async def invite(
    space_id: SpaceId, user_id: UserId, ctx: Ctx, user: CurrentUser
) -> ParticipantView:
    return await stage.invite(ctx, actor=user, space_id=space_id, user_id=user_id)


@router.post("/participants/{user_id}/mute")
async def mute(space_id: SpaceId, user_id: UserId, ctx: Ctx, user: CurrentUser) -> ParticipantView:
    """Mute yourself, or (host/co-host) a speaker."""
    return await stage.mute(ctx, actor=user, space_id=space_id, user_id=user_id)


@router.post("/participants/{user_id}/unmute")
async def unmute(
    space_id: SpaceId, user_id: UserId, ctx: Ctx, user: CurrentUser
) -> ParticipantView:
    """Unmute yourself. Nobody can unmute someone else."""
    return await stage.unmute(ctx, actor=user, space_id=space_id, user_id=user_id)


@router.post("/participants/{user_id}/move-to-audience")
async def move_to_audience(
    space_id: SpaceId, user_id: UserId, ctx: Ctx, user: CurrentUser
) -> ParticipantView:
    return await stage.move_to_audience(ctx, actor=user, space_id=space_id, user_id=user_id)


@router.post("/participants/{user_id}/remove", status_code=status.HTTP_204_NO_CONTENT)
async def remove(space_id: SpaceId, user_id: UserId, ctx: Ctx, user: CurrentUser) -> None:
    """Eject someone; they cannot rejoin this space."""
    await stage.remove(ctx, actor=user, space_id=space_id, user_id=user_id)


@router.put("/cohosts/{user_id}")
async def appoint_cohost(
    space_id: SpaceId, user_id: UserId, ctx: Ctx, user: CurrentUser
) -> ParticipantView:
    return await stage.appoint_cohost(ctx, actor=user, space_id=space_id, user_id=user_id)


@router.delete("/cohosts/{user_id}")
async def dismiss_cohost(
    space_id: SpaceId, user_id: UserId, ctx: Ctx, user: CurrentUser
) -> ParticipantView:
    return await stage.dismiss_cohost(ctx, actor=user, space_id=space_id, user_id=user_id)
