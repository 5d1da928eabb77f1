"""notifications: the bell, fan-outs of a space going live, and who wants to be told

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("notify_live", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.add_column(
        "follows", sa.Column("notify", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column(
            "space_id", sa.String(16), sa.ForeignKey("spaces.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column(
            "actor_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("user_id", "key"),
    )
    op.create_index("ix_notifications_user_id", "notifications", ["user_id", "id"])
    op.create_index("ix_notifications_created", "notifications", ["created_at"])
    op.create_table(
        "notification_fanouts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("fanout", sa.String(16), nullable=False),
        sa.Column(
            "space_id",
            sa.String(16),
            sa.ForeignKey("spaces.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "actor_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stage", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("cursor", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_notification_fanouts_done", "notification_fanouts", ["done_at"])


def downgrade() -> None:
    op.drop_table("notification_fanouts")
    op.drop_table("notifications")
    op.drop_column("follows", "notify")
    op.drop_column("users", "notify_live")
