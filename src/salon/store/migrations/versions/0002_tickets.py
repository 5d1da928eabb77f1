"""ticketed spaces: prices and caps, purchases, tickets, the ledger

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("adult_attested_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("spaces", sa.Column("ticket_price_cents", sa.Integer(), nullable=True))
    op.add_column("spaces", sa.Column("ticket_cap", sa.Integer(), nullable=True))
    op.add_column(
        "participants",
        sa.Column("guest", sa.Boolean(), nullable=False, server_default=sa.false()),
    )

    op.create_table(
        "purchases",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("space_id", sa.String(length=16), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("provider_ref", sa.String(length=255), nullable=True),
        sa.Column("payment_ref", sa.String(length=255), nullable=True),
        sa.Column("checkout_url", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hold_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payment_received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ticket_issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refund_attempts", sa.Integer(), nullable=False),
        sa.Column("refund_retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refund_ref", sa.String(length=255), nullable=True),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["buyer_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["space_id"], ["spaces.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_purchases_space_state", "purchases", ["space_id", "state"])
    op.create_index("ix_purchases_buyer_space", "purchases", ["buyer_id", "space_id"])
    op.create_index("ix_purchases_state_hold", "purchases", ["state", "hold_expires_at"])

    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("space_id", sa.String(length=16), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("purchase_id", sa.String(length=24), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["buyer_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["purchase_id"], ["purchases.id"]),
        sa.ForeignKeyConstraint(["space_id"], ["spaces.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("purchase_id"),
        sa.UniqueConstraint("space_id", "buyer_id"),
    )
    op.create_index("ix_tickets_buyer_id", "tickets", ["buyer_id"])

    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purchase_id", sa.String(length=24), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("provider_event_id", sa.String(length=255), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["purchase_id"], ["purchases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider_event_id"),
    )
    op.create_index("ix_ledger_entries_purchase_id", "ledger_entries", ["purchase_id"])


def downgrade() -> None:
    op.drop_index("ix_ledger_entries_purchase_id", table_name="ledger_entries")
    op.drop_table("ledger_entries")
    op.drop_index("ix_tickets_buyer_id", table_name="tickets")
    op.drop_table("tickets")
    op.drop_index("ix_purchases_state_hold", table_name="purchases")
    op.drop_index("ix_purchases_buyer_space", table_name="purchases")
    op.drop_index("ix_purchases_space_state", table_name="purchases")
    op.drop_table("purchases")
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("guest")
    with op.batch_alter_table("spaces") as batch:
        batch.drop_column("ticket_cap")
        batch.drop_column("ticket_price_cents")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("adult_attested_at")
