"""recording_deleted_at: when the host deleted a space's recording (its replay is gone)

Revision ID: 0009
Revises: 0008
Create Date: 2027-01-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "spaces", sa.Column("recording_deleted_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("spaces", "recording_deleted_at")
