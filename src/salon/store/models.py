"""The tables. One class per noun; rules live in domain/, not here."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from salon.domain.lifecycle import SpaceState
from salon.domain.stage import Role
from salon.domain.tickets import LedgerKind, PurchaseState
from salon.store.types import StrEnumType, UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class User(Base):
    __tablename__ = "users"
    __table_args__ = (Index("ux_users_founder", "founder", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handle: Mapped[str] = mapped_column(String(15))
    #: Lower-cased handle: handles are unique regardless of case.
    handle_key: Mapped[str] = mapped_column(String(15), unique=True)
    display_name: Mapped[str] = mapped_column(String(50))
    bio: Mapped[str] = mapped_column(String(160), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    #: True for the instance's first account only, NULL for everyone else: the unique index
    #: lets exactly one of any number of racing first sign-ups become the founding admin.
    founder: Mapped[bool | None] = mapped_column(Boolean, nullable=True, default=None)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    can_sell_tickets: Mapped[bool] = mapped_column(Boolean, default=False)
    banned: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    #: When the person attested being 18 or older (one condition for selling tickets).
    adult_attested_at: Mapped[datetime | None]
    #: Whether to be told when people this person follows go live (each follow has its own).
    notify_live: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: Where to e-mail notifications, once confirmed by a link (``email_confirmed_at``).
    email: Mapped[str | None] = mapped_column(String(254))
    email_confirmed_at: Mapped[datetime | None]
    #: The notification kinds e-mailed; None: the defaults (``domain/notifications``).
    email_kinds: Mapped[list[str] | None] = mapped_column(JSON)


class Follow(Base):
    __tablename__ = "follows"
    __table_args__ = (Index("ix_follows_followee", "followee_id"),)

    follower_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    followee_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime]
    #: Whether the follower is told when the followee goes live.
    notify: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class WebSession(Base):
    """A signed-in browser. Only the token's hash is stored."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class ApiToken(Base):
    """A personal bearer token for scripts and bots. Only the token's hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]


class Space(Base):
    __tablename__ = "spaces"
    __table_args__ = (Index("ix_spaces_state_host", "state", "host_id"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    title: Mapped[str] = mapped_column(String(70))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    host_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[SpaceState] = mapped_column(StrEnumType(SpaceState))
    recording: Mapped[bool] = mapped_column(Boolean, default=False)
    #: When the host deleted the recording: its replay is refused from then on.
    recording_deleted_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    scheduled_for: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))
    #: Set while the host's last live connection is gone; the space ends after the grace period.
    host_disconnected_at: Mapped[datetime | None]
    #: A ticketed space has a price (USD cents) and a cap; both are None for a free space.
    ticket_price_cents: Mapped[int | None] = mapped_column(Integer)
    ticket_cap: Mapped[int | None] = mapped_column(Integer)
    #: How many times this space's media has started (a restart or a new node starts it
    #: again); each run after the first begins with a discontinuity in its LL-HLS stream.
    media_runs: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    #: The sequence number of this space's last committed event (``Event.seq``): one more per
    #: event, set in the transaction that commits it, so a client on any node can drop an
    #: event it saw twice and notice one it missed.
    event_seq: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    #: The node that runs this live space's media (its room: stage, mixer, LL-HLS, recording),
    #: where other nodes reach it, and until when: the owner renews the lease; once it lapses
    #: any node may take it (``services/media_leases.py``).
    media_node: Mapped[str | None] = mapped_column(String(128))
    media_url: Mapped[str | None] = mapped_column(String(256))
    media_lease_until: Mapped[datetime | None]

    host: Mapped[User] = relationship(lazy="joined")

    @property
    def ticketed(self) -> bool:
        return self.ticket_price_cents is not None


class Participant(Base):
    """One person's standing in one space. The row outlives presence: it remembers removal."""

    __tablename__ = "participants"
    __table_args__ = (Index("ix_participants_space_role", "space_id", "role"),)

    space_id: Mapped[str] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(StrEnumType(Role))
    present: Mapped[bool] = mapped_column(Boolean, default=False)
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    hand_raised_at: Mapped[datetime | None]
    invited_at: Mapped[datetime | None]
    #: Who sent the open invitation (set and cleared with ``invited_at``).
    inviter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    removed_at: Mapped[datetime | None]
    joined_at: Mapped[datetime | None]
    #: Set while this person's last live connection is gone; they leave after the grace period.
    disconnected_at: Mapped[datetime | None]
    #: Invited onto the stage or made co-host: may enter a ticketed space without a ticket.
    guest: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    inviter: Mapped[User | None] = relationship(foreign_keys=[inviter_id], lazy="joined")


class Reminder(Base):
    __tablename__ = "reminders"

    space_id: Mapped[str] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime]


class Reaction(Base):
    """Kept so a recording can replay reactions on its timeline."""

    __tablename__ = "reactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    space_id: Mapped[str] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    emoji: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]


class Purchase(Base):
    """One attempt to buy one ticket. Its state follows domain.tickets.PurchaseState."""

    __tablename__ = "purchases"
    __table_args__ = (
        Index("ix_purchases_space_state", "space_id", "state"),
        Index("ix_purchases_buyer_space", "buyer_id", "space_id"),
        Index("ix_purchases_state_hold", "state", "hold_expires_at"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    space_id: Mapped[str] = mapped_column(ForeignKey("spaces.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[PurchaseState] = mapped_column(StrEnumType(PurchaseState))
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    #: Which payment provider handles it ("test" or "stripe") and its references.
    provider: Mapped[str] = mapped_column(String(16))
    provider_ref: Mapped[str | None] = mapped_column(String(255))
    payment_ref: Mapped[str | None] = mapped_column(String(255))
    checkout_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    hold_expires_at: Mapped[datetime]
    #: When the buyer's money was first reported received (None: never).
    payment_received_at: Mapped[datetime | None]
    ticket_issued_at: Mapped[datetime | None]
    #: Refund outbox: attempts made and when to try again.
    refund_attempts: Mapped[int] = mapped_column(Integer, default=0)
    refund_retry_at: Mapped[datetime | None]
    refund_ref: Mapped[str | None] = mapped_column(String(255))
    refunded_at: Mapped[datetime | None]


class Ticket(Base):
    """A valid ticket: one per purchase, one per buyer and space. Deleted when refunded; the
    ledger keeps its history."""

    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("space_id", "buyer_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    space_id: Mapped[str] = mapped_column(ForeignKey("spaces.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purchase_id: Mapped[str] = mapped_column(ForeignKey("purchases.id"), unique=True)
    issued_at: Mapped[datetime]


class LedgerEntry(Base):
    """Every purchase, payment event, ticket, fee and refund is a row; rows are never changed."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purchase_id: Mapped[str | None] = mapped_column(ForeignKey("purchases.id"), index=True)
    kind: Mapped[LedgerKind] = mapped_column(StrEnumType(LedgerKind))
    amount_cents: Mapped[int] = mapped_column(Integer, default=0)
    #: The provider's event id: recording it twice is refused, so each event acts once.
    provider_event_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    detail: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]


class Notification(Base):
    """What one person is told, once: ``key`` is unique per person (``domain/notifications``)."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_notifications_user_id", "user_id", "id"),
        Index("ix_notifications_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(120))
    space_id: Mapped[str | None] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: How many, for a grouped kind (tickets sold); the new time, for a rescheduled space.
    count: Mapped[int | None] = mapped_column(Integer)
    scheduled_for: Mapped[datetime | None]
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class NotificationFanout(Base):
    """One change that tells many people (a space going live tells its host's followers):
    committed with the change, then worked through in batches, each batch in its own
    transaction with the cursor it reached, so a restart resumes and nobody is told twice."""

    __tablename__ = "notification_fanouts"
    __table_args__ = (Index("ix_notification_fanouts_done", "done_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fanout: Mapped[str] = mapped_column(String(16))
    space_id: Mapped[str] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    scheduled_for: Mapped[datetime | None]
    #: Which audience (an index into ``AUDIENCES[fanout]``) and the last person id told in it.
    stage: Mapped[int] = mapped_column(Integer, default=0)
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    #: A node working on it holds it until then; another may take it over afterwards.
    claimed_until: Mapped[datetime | None]
    done_at: Mapped[datetime | None]


class InstanceKey(Base):
    """A key this instance made for itself and keeps in its database (e.g. VAPID for push),
    so every node signs with the same one and nothing lives in a node's var/ folder."""

    __tablename__ = "instance_keys"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    private_key: Mapped[str] = mapped_column(Text)
    public_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class PushSubscription(Base):
    """One browser's Web Push subscription (RFC 8030 endpoint and RFC 8291 keys)."""

    __tablename__ = "push_subscriptions"
    __table_args__ = (Index("ix_push_subscriptions_user", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class Delivery(Base):
    """The outbox: one notification to send by push or e-mail, written with it, sent after
    the commit, retried with backoff until sent or given up."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel", "target"),
        Index("ix_deliveries_due", "sent_at", "failed_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    #: "push" or "email".
    channel: Mapped[str] = mapped_column(String(8))
    #: The push subscription's id, or the e-mail address.
    target: Mapped[str] = mapped_column(String(1000))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
