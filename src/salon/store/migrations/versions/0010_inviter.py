"""participants.inviter_id: who sent a listener's open invitation to speak

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.add_column(sa.Column("inviter_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_participants_inviter_id_users", "users", ["inviter_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.drop_constraint("fk_participants_inviter_id_users", type_="foreignkey")
        batch.drop_column("inviter_id")
