"""Routes for finding and following replays: a person's spaces, the replays of people one
follows, a replay's timeline, and the host deleting a recording."""

from __future__ import annotations

from fastapi import APIRouter, status

from salon.api.deps import Ctx, CurrentUser, MaybeUser
from salon.api.problems import COMMON_PROBLEMS, problem_responses
from salon.api.schemas import Handle, Limit, Offset, SpaceId
from salon.services import recordings, replays
from salon.services.replays import ListedSpace, ReplayView

router = APIRouter(prefix="/api", tags=["replays"], responses=COMMON_PROBLEMS)


@router.get("/users/{handle}/spaces")
async def user_spaces(
    handle: Handle, ctx: Ctx, viewer: MaybeUser, limit: Limit = 20, offset: Offset = 0
) -> list[ListedSpace]:
    """A person's spaces: live, then upcoming (soonest first), then past (latest first; each
    says whether its replay exists and until when)."""
    return await replays.user_spaces(ctx, handle=handle, viewer=viewer, limit=limit, offset=offset)


@router.get("/me/replays")
async def my_replays(
    ctx: Ctx, user: CurrentUser, limit: Limit = 20, offset: Offset = 0
) -> list[ListedSpace]:
    """Replays still available from the people you follow, latest ended first."""
    return await replays.followed_replays(ctx, viewer=user, limit=limit, offset=offset)


@router.get("/spaces/{space_id}/replay", responses=problem_responses(410))
async def replay(space_id: SpaceId, ctx: Ctx, viewer: MaybeUser) -> ReplayView:
    """An ended recorded space's replay: length, expiry, who spoke when and the reactions,
    in seconds of recorded audio. 410 once expired or deleted by its host."""
    return await replays.describe(ctx, space_id=space_id, viewer=viewer)


@router.delete(
    "/spaces/{space_id}/recording",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(410),
)
async def delete_recording(space_id: SpaceId, ctx: Ctx, user: CurrentUser) -> None:
    """The host deletes the recording of their ended space: its playlist and media are
    refused (410) from this moment on."""
    await recordings.delete(ctx, actor=user, space_id=space_id)
