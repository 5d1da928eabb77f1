"""What the outside world sees of our nouns: API responses and event payloads share these."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from salon.domain.lifecycle import SpaceState
from salon.domain.stage import Role


class View(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


class UserSummary(View):
    id: int
    handle: str
    display_name: str
    verified: bool


class Profile(UserSummary):
    bio: str
    created_at: datetime
    followers_count: int
    following_count: int
    #: Whether the signed-in viewer follows this account (false when signed out).
    followed_by_me: bool = False


class Me(Profile):
    is_admin: bool
    can_sell_tickets: bool


class AdminUserView(UserSummary):
    is_admin: bool
    can_sell_tickets: bool
    banned: bool


class ApiTokenView(View):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


class NewApiToken(ApiTokenView):
    #: The secret, shown once.
    token: str


class ParticipantView(View):
    user: UserSummary
    role: Role
    present: bool
    muted: bool
    hand_raised: bool
    invited: bool


class SpaceView(View):
    id: str
    title: str
    topics: list[str]
    state: SpaceState
    host: UserSummary
    recording: bool
    created_at: datetime
    scheduled_for: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    #: Everyone present, stage included.
    audience_count: int
    #: Host, co-hosts and speakers, host first.
    stage: list[ParticipantView]
    #: Whether the signed-in viewer set a reminder (scheduled spaces).
    reminder_set: bool = False
    #: The viewer's own standing, when signed in and known to this space.
    me: ParticipantView | None = None
