"""The revenue series the leadership page reads: the monthly ARR bridge and trailing-12-month
retention by segment, per published day.

Revision ID: 0008_metric_series
Revises: 0007_stage_term
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008_metric_series"
down_revision: str | None = "0007_stage_term"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "metric_series",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(length=80), nullable=False),
        sa.Column("segment", sa.String(length=100), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("value", sa.Numeric(28, 10), nullable=True),
        sa.PrimaryKeyConstraint("as_of", "metric", "segment", "period",
                                name=op.f("pk_metric_series")),
    )


def downgrade() -> None:
    op.drop_table("metric_series")
