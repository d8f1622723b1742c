"""Churn risk within a window beside the probability at the next decision, and whether the
reasons say why the risk is high or why it is low.

Revision ID: 0005_churn_window
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005_churn_window"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("churn_risk") as batch:
        batch.add_column(sa.Column("churn_probability_window", sa.Float(), nullable=True))
        batch.add_column(sa.Column("window_days", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reasons_direction", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("churn_risk") as batch:
        batch.drop_column("reasons_direction")
        batch.drop_column("window_days")
        batch.drop_column("churn_probability_window")
