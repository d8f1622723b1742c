"""The entities behind each published day whose newest data is older than that day.

Revision ID: 0005_stale_data
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005_stale_data"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "stale_data",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("entity", sa.String(length=50), nullable=False),
        sa.Column("newest", sa.Date(), nullable=False),
        sa.Column("days_behind", sa.Integer(), nullable=False),
        sa.Column("sentence", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("as_of", "entity", name=op.f("pk_stale_data")),
    )


def downgrade() -> None:
    op.drop_table("stale_data")
