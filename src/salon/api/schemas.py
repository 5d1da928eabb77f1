"""Request bodies and parameters. Limits mirror domain/; domain/ still checks everything.

Free-text lengths are checked by domain/text.py after normalising and stripping, so the
schemas only bound them (``INPUT_SLACK`` times the limit): a 160-character bio with a trailing
space is fine. Whatever bound refuses a value, the answer (422) names the field's own limit
("a title is 1 to 70 characters"), and nothing is ever cut to fit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
)
from pydantic_core import PydanticCustomError

from salon.domain.accounts import (
    BIO_MAX,
    DISPLAY_NAME_MAX,
    HANDLE_PATTERN,
    HANDLE_RULE,
    PASSWORD_MAX,
    PASSWORD_MIN,
    TOKEN_LABEL_MAX,
    handle_fits,
)
from salon.domain.lifecycle import TITLE_MAX, TOPIC_MAX, TOPICS_MAX
from salon.domain.reactions import Emoji
from salon.domain.text import INPUT_SLACK, length_rule
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


def _within(what: str, limit: int, *, required: bool = True) -> BeforeValidator:
    """Free text of at most ``limit`` characters (domain/text.py counts them after stripping),
    bounded here at ``INPUT_SLACK`` times that; refused past it with the limit named, the way
    the domain says it (pydantic's own words would name the slack)."""

    def check(value: object) -> object:
        if isinstance(value, str) and len(value) > limit * INPUT_SLACK:
            raise PydanticCustomError("too_long", length_rule(what, limit, required=required))
        return value

    return BeforeValidator(check)


def _documented(limit: int) -> Any:
    return Field(json_schema_extra={"maxLength": limit * INPUT_SLACK})


def _handle(value: object) -> object:
    if isinstance(value, str) and not handle_fits(value):
        raise PydanticCustomError("handle", HANDLE_RULE)
    return value


#: A handle exactly as typed: one that does not fit is refused, never trimmed or cut.
HandleIn = Annotated[
    str,
    BeforeValidator(_handle),
    Field(json_schema_extra={"pattern": HANDLE_PATTERN}, examples=["ada_l"]),
]

DisplayNameIn = Annotated[
    Text, _within("display name", DISPLAY_NAME_MAX), _documented(DISPLAY_NAME_MAX)
]
BioIn = Annotated[Text, _within("bio", BIO_MAX, required=False), _documented(BIO_MAX)]
TitleIn = Annotated[Text, _within("title", TITLE_MAX), _documented(TITLE_MAX)]
TopicIn = Annotated[Text, _within("topic", TOPIC_MAX), _documented(TOPIC_MAX)]
TokenLabelIn = Annotated[
    Text, _within("token label", TOKEN_LABEL_MAX), _documented(TOKEN_LABEL_MAX)
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterIn(Body):
    handle: HandleIn
    display_name: DisplayNameIn = Field(min_length=1)
    password: Text = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)


class SignInIn(Body):
    handle: HandleIn
    password: Text = Field(min_length=1, max_length=PASSWORD_MAX)


class ProfileUpdateIn(Body):
    display_name: DisplayNameIn | None = Field(default=None, min_length=1)
    bio: BioIn | None = None
    adult_attested: StrictBool | None = Field(
        default=None, description="Attest that you are 18 or older (needed to sell tickets)."
    )
    notify_live: StrictBool | None = Field(
        default=None, description="Be told when people you follow go live (all of them)."
    )


class ApiTokenIn(Body):
    name: TokenLabelIn = Field(min_length=1, description="What the token is for.")


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
    title: TitleIn = Field(min_length=1)
    topics: list[Annotated[TopicIn, Field(min_length=1)]] = Field(
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
    up_to: StrictInt = Field(
        ge=0, le=2**31 - 1, description="Mark notifications up to this id read."
    )


class RescheduleIn(Body):
    scheduled_for: AwareDatetime = Field(
        description="The new start, with a timezone, in the future (e.g. 2026-05-01T18:00:00Z)."
    )


class PushKeysIn(Body):
    p256dh: str = Field(min_length=20, max_length=200, pattern=r"^[A-Za-z0-9_-]+=*$")
    auth: str = Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_-]+=*$")


class PushSubscriptionIn(Body):
    """A browser's ``PushSubscription.toJSON()``."""

    endpoint: str = Field(min_length=8, max_length=1000, pattern=r"^https?://")
    expirationTime: float | None = None  # noqa: N815 - the browser's own name
    keys: PushKeysIn


class EmailIn(Body):
    email: str | None = Field(
        max_length=254, description="Where to e-mail notifications (null: nowhere)."
    )


class EmailKindsIn(Body):
    kinds: list[Annotated[str, Field(max_length=32)]] = Field(
        max_length=20, description="The notification kinds to e-mail."
    )
