"""The data-quality report per as-of date, and the stale inputs a health score read.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "data_quality",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("check", sa.String(30), nullable=False),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("field", sa.String(200), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=True),
        sa.Column("failed", sa.Integer(), nullable=True),
        sa.Column("share", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("examples", sa.JSON(), nullable=True),
        sa.Column("newest_at", UTC_TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("as_of", "source", "entity", "check", "rule", "field",
                                name=op.f("pk_data_quality")),
    )
    op.create_index(op.f("ix_data_quality_as_of_status"), "data_quality", ["as_of", "status"])
    with op.batch_alter_table("health_scores") as batch:
        batch.add_column(sa.Column("data_warnings", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("health_scores") as batch:
        batch.drop_column("data_warnings")
    op.drop_index(op.f("ix_data_quality_as_of_status"), table_name="data_quality")
    op.drop_table("data_quality")
