"""The tables. One class per noun; rules live in domain/, not here."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from salon.domain.lifecycle import SpaceState
from salon.domain.stage import Role
from salon.store.types import StrEnumType, UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handle: Mapped[str] = mapped_column(String(15))
    #: Lower-cased handle: handles are unique regardless of case.
    handle_key: Mapped[str] = mapped_column(String(15), unique=True)
    display_name: Mapped[str] = mapped_column(String(50))
    bio: Mapped[str] = mapped_column(String(160), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    can_sell_tickets: Mapped[bool] = mapped_column(Boolean, default=False)
    banned: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


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
    created_at: Mapped[datetime]
    scheduled_for: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))
    #: Set while the host's last live connection is gone; the space ends after the grace period.
    host_disconnected_at: Mapped[datetime | None]

    host: Mapped[User] = relationship(lazy="joined")


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
    removed_at: Mapped[datetime | None]
    joined_at: Mapped[datetime | None]
    #: Set while this person's last live connection is gone; they leave after the grace period.
    disconnected_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


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
