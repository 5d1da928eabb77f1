"""What the outside world sees of our nouns: API responses and event payloads share these."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from salon.domain.lifecycle import SpaceState
from salon.domain.stage import Role
from salon.domain.tickets import PurchaseState


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
    #: Whether the viewer is told when this account goes live (None: not following).
    live_notifications: bool | None = None


class Me(Profile):
    is_admin: bool
    can_sell_tickets: bool
    #: Whether to be told when people this person follows go live (all hosts).
    notify_live: bool = True
    #: Whether this person attested being 18 or older (needed to sell tickets).
    adult_attested: bool = False


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
    #: Who sent the open invitation to speak (None without one, or if that account is gone).
    invited_by: UserSummary | None = None


class TicketInfo(View):
    """A ticketed space's terms, as one viewer sees them."""

    #: USD cents: 100 to 99,900.
    price_cents: int
    currency: str
    cap: int
    #: Seats not yet sold or held by a purchase in progress.
    tickets_left: int
    #: The viewer holds a ticket.
    have_ticket: bool
    #: The viewer may join and listen: a ticket, or the host, a co-host or an invited speaker.
    admitted: bool


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
    #: Listeners not on the stage: joined people, or players counted by the audio they fetch
    #: (signed out, through an edge or CDN, ffmpeg), whichever is larger.
    audience_count: int
    #: Host, co-hosts and speakers, host first.
    stage: list[ParticipantView]
    #: Whether the signed-in viewer set a reminder (scheduled spaces).
    reminder_set: bool = False
    #: The viewer's own standing, when signed in and known to this space.
    me: ParticipantView | None = None
    #: Price, cap and tickets left of a ticketed space; None for a free one.
    ticket: TicketInfo | None = None


class PurchaseView(View):
    """One purchase of a ticket, as its buyer sees it."""

    id: str
    space_id: str
    #: held → paid | declined | expired; paid → refund_pending → refunded.
    state: PurchaseState
    amount_cents: int
    currency: str
    #: Where to send the buyer's browser to pay (None once the purchase is settled).
    checkout_url: str | None
    #: The seat is held until then; an unpaid purchase then expires.
    hold_expires_at: datetime
    created_at: datetime
    #: This purchase issued the buyer's ticket.
    ticket: bool


class MyTicket(View):
    purchase_id: str
    space_id: str
    title: str
    space_state: SpaceState
    scheduled_for: datetime | None
    amount_cents: int
    currency: str
    issued_at: datetime


class Eligibility(View):
    """Whether the viewer may sell tickets, and what is missing if not."""

    eligible: bool
    #: An admin granted ticket selling.
    granted: bool
    #: Each unmet condition, in words.
    reasons: list[str]
    followers: int
    followers_needed: int
    adult_attested: bool
    #: Spaces hosted (gone live) in the last ``window_days`` days.
    hosted_recently: int
    hosted_needed: int
    window_days: int


class StatementLine(View):
    """Tickets sold and what they earned; money in USD cents."""

    tickets_sold: int
    gross_cents: int
    #: Sold tickets refunded (or being refunded), and their amount.
    refunds: int
    refunded_cents: int
    #: The platform's fees, net of fees returned with refunds.
    fees_cents: int
    #: gross − refunded − fees.
    net_cents: int


class SpaceStatement(StatementLine):
    space_id: str
    title: str
    state: SpaceState
    price_cents: int


class TicketStatement(View):
    currency: str
    #: Lifetime ticket earnings counted for the fee (gross sales not refunded).
    earnings_cents: int
    #: The fee rate the next sale starts at: 3 until $50,000 of earnings, then 20.
    fee_rate_percent: int
    total: StatementLine
    spaces: list[SpaceStatement]


class NotificationSpace(View):
    """The space a notification is about, as it is now (``scheduled_for``: the time it was
    moved to, for a rescheduled one)."""

    id: str
    title: str
    state: SpaceState
    scheduled_for: datetime | None


class NotificationView(View):
    id: int
    #: ``domain.notifications.Kind``: space_started, space_cancelled, space_rescheduled,
    #: host_live, invited_to_speak, ticket_bought, ticket_refunded, ticket_space_cancelled,
    #: tickets_sold.
    kind: str
    created_at: datetime
    read: bool
    space: NotificationSpace | None
    #: Who caused it: the host who went live, who invited you.
    actor: UserSummary | None
    #: How many, for tickets_sold.
    count: int | None


class NotificationPage(View):
    """Notifications, newest first; the unread count and newest id are the whole bell's."""

    items: list[NotificationView]
    unread: int
    latest_id: int | None


class AdminUserPage(View):
    """One page of accounts, as an admin finds them."""

    users: list[AdminUserView]
    #: 1-based.
    page: int
    per_page: int
    #: Accounts matching the search, over every page.
    total: int


class InstanceSetting(View):
    """One setting of this instance, as an admin reads it (never a secret)."""

    #: The setting's name in ``Settings`` (``host_min_followers``).
    key: str
    #: The environment variable that sets it (``SALON_HOST_MIN_FOLLOWERS``).
    env: str
    #: What it is set to, or what is safe to say about it (a database's kind, not its URL).
    value: str | int | float | bool | list[str]
    #: What it does, in words.
    about: str


class HostingEligibility(View):
    """Whether the viewer may host a space now: the follower rule, before any form is filled."""

    can_host: bool
    followers: int
    #: The instance's rule (``SALON_HOST_MIN_FOLLOWERS``); admins are exempt from it.
    followers_needed: int
    #: How many more followers hosting needs (0 when one may host).
    to_go: int
    #: Admins host whatever their followers.
    exempt: bool
