"""Notes, meetings and calls people log on an account.

Revision ID: 0006_account_notes
Revises: 0005_operations
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006_account_notes"
down_revision: str | None = "0005_operations"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "account_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("author", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_notes")),
    )
    op.create_index(op.f("ix_account_notes_account_id_occurred_on"), "account_notes",
                    ["account_id", "occurred_on"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_account_notes_account_id_occurred_on"), table_name="account_notes")
    op.drop_table("account_notes")
