"""Published health scores and churn risk, one row per account per as-of date.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "health_scores",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("model", sa.String(100), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("band", sa.String(10), nullable=True),
        sa.Column("change_7d", sa.Float(), nullable=True),
        sa.Column("change_30d", sa.Float(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.Column("components", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("as_of", "account_id", name=op.f("pk_health_scores")),
    )
    op.create_index(op.f("ix_health_scores_as_of_band"), "health_scores", ["as_of", "band"])
    op.create_table(
        "churn_risk",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("churn_probability", sa.Float(), nullable=False),
        sa.Column("horizon", sa.Date(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("model_version", sa.String(50), nullable=False),
        sa.PrimaryKeyConstraint("as_of", "account_id", name=op.f("pk_churn_risk")),
    )


def downgrade() -> None:
    op.drop_table("churn_risk")
    op.drop_index(op.f("ix_health_scores_as_of_band"), table_name="health_scores")
    op.drop_table("health_scores")
