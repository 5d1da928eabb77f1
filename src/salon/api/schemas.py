"""Request bodies and parameters. Limits mirror domain/; domain/ still checks everything.

Free-text lengths are checked by domain/text.py after normalising and stripping, so the
schemas only bound them (``INPUT_SLACK`` times the limit): a 160-character bio with a trailing
space is fine."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
)

from salon.domain.accounts import (
    BIO_MAX,
    DISPLAY_NAME_MAX,
    HANDLE_PATTERN,
    PASSWORD_MAX,
    PASSWORD_MIN,
)
from salon.domain.lifecycle import TITLE_MAX, TOPIC_MAX, TOPICS_MAX
from salon.domain.reactions import Emoji
from salon.domain.text import INPUT_SLACK
from salon.domain.tickets import CAP_MAX, CAP_MIN, PRICE_MAX_CENTS, PRICE_MIN_CENTS

_PG_INT_MAX = 2_147_483_647


def _plain_text(value: str) -> str:
    """Reject what no database should be asked to store: NULs, control codes, lone surrogates."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode") from None
    if any((ord(c) < 32 and c not in "\n\t") or ord(c) == 127 for c in value):
        raise ValueError("text must not contain control characters")
    return value


#: Free text: no control characters other than tab and newline (documented in the schema too).
Text = Annotated[str, Field(pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$"), AfterValidator(_plain_text)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterIn(Body):
    handle: str = Field(pattern=HANDLE_PATTERN, examples=["ada_l"])
    display_name: Text = Field(min_length=1, max_length=DISPLAY_NAME_MAX * INPUT_SLACK)
    password: Text = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)


class SignInIn(Body):
    handle: str = Field(pattern=HANDLE_PATTERN)
    password: Text = Field(min_length=1, max_length=PASSWORD_MAX)


class ProfileUpdateIn(Body):
    display_name: Text | None = Field(
        default=None, min_length=1, max_length=DISPLAY_NAME_MAX * INPUT_SLACK
    )
    bio: Text | None = Field(default=None, max_length=BIO_MAX * INPUT_SLACK)
    adult_attested: StrictBool | None = Field(
        default=None, description="Attest that you are 18 or older (needed to sell tickets)."
    )
    notify_live: StrictBool | None = Field(
        default=None, description="Be told when people you follow go live (all of them)."
    )


class ApiTokenIn(Body):
    name: Text = Field(min_length=1, max_length=50)


class AdminUserUpdateIn(Body):
    verified: StrictBool | None = None
    can_sell_tickets: StrictBool | None = None
    banned: StrictBool | None = None
    is_admin: StrictBool | None = None


class TicketIn(Body):
    price_cents: StrictInt = Field(
        ge=PRICE_MIN_CENTS, le=PRICE_MAX_CENTS, description="USD cents: $1.00 to $999.00."
    )
    cap: StrictInt = Field(ge=CAP_MIN, le=CAP_MAX, description="How many tickets are sold.")


class SpaceIn(Body):
    title: Text = Field(min_length=1, max_length=TITLE_MAX * INPUT_SLACK)
    topics: list[Annotated[Text, Field(min_length=1, max_length=TOPIC_MAX * INPUT_SLACK)]] = Field(
        default_factory=list, max_length=TOPICS_MAX
    )
    scheduled_for: AwareDatetime | None = Field(
        default=None, description="Leave out to start now; otherwise up to 14 days ahead."
    )
    recording: StrictBool = False
    ticket: TicketIn | None = Field(
        default=None, description="Sell tickets: a ticketed space must be scheduled."
    )


class ReactionIn(Body):
    emoji: Emoji


SPACE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,16}$"
SpaceId = Annotated[str, Path(pattern=SPACE_ID_PATTERN, description="A space's id")]
UserId = Annotated[int, Path(ge=1, le=_PG_INT_MAX, description="An account's id")]
TokenId = Annotated[int, Path(ge=1, le=_PG_INT_MAX)]
Handle = Annotated[str, Path(pattern=HANDLE_PATTERN)]
PurchaseId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,24}$", description="A purchase's id")]
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=100_000)]


class FollowSettingsIn(Body):
    notify: StrictBool = Field(description="Be told when this person goes live.")


class MarkReadIn(Body):
    up_to: StrictInt = Field(ge=0, le=2**62, description="Mark notifications up to this id read.")


class RescheduleIn(Body):
    scheduled_for: AwareDatetime = Field(
        description="The new start, with a timezone, in the future (e.g. 2026-05-01T18:00:00Z)."
    )
