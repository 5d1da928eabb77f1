"""media leases: which node runs a live space's media, until when, and where to reach it

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("spaces", sa.Column("media_node", sa.String(128), nullable=True))
    op.add_column("spaces", sa.Column("media_url", sa.String(256), nullable=True))
    op.add_column(
        "spaces", sa.Column("media_lease_until", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("spaces", "media_lease_until")
    op.drop_column("spaces", "media_url")
    op.drop_column("spaces", "media_node")
