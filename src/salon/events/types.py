"""The event vocabulary sent to clients of a space. The web client uses the same names."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from salon.domain.reactions import Emoji
from salon.domain.stage import Role
from salon.views import ParticipantView, SpaceView


class Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    space_id: str
    at: datetime
    #: Events committed with a change carry the space's next sequence number (one more per
    #: event, set in the committing transaction); ephemeral ones (speaking, reactions,
    #: counts sent by the sweeper) carry None. A client drops an event whose ``seq`` it has
    #: seen and re-reads the snapshot when one is missing.
    seq: int | None = None


class Snapshot(Event):
    """Sent first on every connection: the whole space as it stands.

    Its ``seq`` is the last sequence number it includes (read before the rest, so a change
    it already shows may still arrive after it, as an event to apply again).
    """

    type: Literal["snapshot"] = "snapshot"
    space: SpaceView
    participants: list[ParticipantView]
    #: Who speaks now (``speaking`` events follow only when that changes).
    speaking: list[int] = []


class SpaceStarted(Event):
    type: Literal["space_started"] = "space_started"
    space: SpaceView


class SpaceEnded(Event):
    type: Literal["space_ended"] = "space_ended"
    reason: Literal["host_ended", "host_left"]


class SpaceCancelled(Event):
    type: Literal["space_cancelled"] = "space_cancelled"


class HostDisconnected(Event):
    type: Literal["host_disconnected"] = "host_disconnected"
    grace_seconds: float


class HostReconnected(Event):
    type: Literal["host_reconnected"] = "host_reconnected"


class ParticipantJoined(Event):
    type: Literal["participant_joined"] = "participant_joined"
    participant: ParticipantView


class ParticipantLeft(Event):
    type: Literal["participant_left"] = "participant_left"
    user_id: int
    #: ``banned``: the account was banned (signed out everywhere, so it leaves every space).
    reason: Literal["left", "disconnected", "removed", "banned"]


class RoleChanged(Event):
    type: Literal["role_changed"] = "role_changed"
    user_id: int
    role: Role
    previous: Role


class HandRaised(Event):
    type: Literal["hand_raised"] = "hand_raised"
    user_id: int


class HandLowered(Event):
    type: Literal["hand_lowered"] = "hand_lowered"
    user_id: int
    reason: Literal["withdrawn", "approved", "denied", "left"]


class Invited(Event):
    type: Literal["invited"] = "invited"
    user_id: int
    by: int


class InvitationAnswered(Event):
    type: Literal["invitation_answered"] = "invitation_answered"
    user_id: int
    accepted: bool


class Muted(Event):
    type: Literal["muted"] = "muted"
    user_id: int
    by: int


class Unmuted(Event):
    type: Literal["unmuted"] = "unmuted"
    user_id: int


class ReactionSent(Event):
    type: Literal["reaction"] = "reaction"
    user_id: int
    emoji: Emoji


class ReactionBurst(Event):
    """A large audience's reactions over one window, counted per emoji (no one's identity)."""

    type: Literal["reaction_burst"] = "reaction_burst"
    window_seconds: float
    counts: dict[Emoji, int]


class Speaking(Event):
    """Who is speaking now (from the mixer's input levels); sent a few times a second at most."""

    type: Literal["speaking"] = "speaking"
    user_ids: list[int]


class AudienceCount(Event):
    """Listeners not on the stage: joined people and players counted by the audio they fetch."""

    type: Literal["audience_count"] = "audience_count"
    count: int


class TicketsLeft(Event):
    """A ticketed space's count of unsold seats changed (a purchase held, paid, freed)."""

    type: Literal["tickets_left"] = "tickets_left"
    tickets_left: int


class MediaMoved(Event):
    """The space's media (its stage and LL-HLS stream) now runs on another node: stage
    members re-offer at once instead of waiting ~30 s for ICE to fail."""

    type: Literal["media_moved"] = "media_moved"
    node: str


class SpeakerReplaced(Event):
    """A newer WHIP offer of the same person (another tab, device or bot) took their seat:
    ``session_id`` is the connection it ended. Sent only to that person's own event streams;
    the device holding that session stops offering ("replaced by your other device")."""

    type: Literal["speaker_replaced"] = "speaker_replaced"
    user_id: int
    session_id: str


class TicketVoided(Event):
    """A ticket for this space went back (refunded): its holder's audio stops, their WHEP
    session is hung up at once. Sent only to that person's own event streams."""

    type: Literal["ticket_voided"] = "ticket_voided"
    user_id: int


def addressed_to(event: Event) -> int | None:
    """The one person an event is for (None: everyone following the space)."""
    return event.user_id if isinstance(event, SpeakerReplaced | TicketVoided) else None


SpaceEvent = Annotated[
    Snapshot
    | SpaceStarted
    | SpaceEnded
    | SpaceCancelled
    | HostDisconnected
    | HostReconnected
    | ParticipantJoined
    | ParticipantLeft
    | RoleChanged
    | HandRaised
    | HandLowered
    | Invited
    | InvitationAnswered
    | Muted
    | Unmuted
    | ReactionSent
    | ReactionBurst
    | Speaking
    | AudienceCount
    | TicketsLeft
    | MediaMoved
    | SpeakerReplaced
    | TicketVoided,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[SpaceEvent] = TypeAdapter(SpaceEvent)


def to_json(event: Event) -> str:
    return event.model_dump_json()


def from_json(data: str | bytes) -> SpaceEvent:
    return EVENT_ADAPTER.validate_json(data)
