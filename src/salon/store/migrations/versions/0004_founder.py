"""founder: the instance's first account, exactly one under any concurrency

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("founder", sa.Boolean(), nullable=True))
    # An instance that already has accounts has its founder: the first one.
    op.execute("UPDATE users SET founder = true WHERE id = (SELECT min(id) FROM users)")
    op.create_index("ux_users_founder", "users", ["founder"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_users_founder", table_name="users")
    op.drop_column("users", "founder")
