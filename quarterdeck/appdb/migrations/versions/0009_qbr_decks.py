"""QBR decks kept in the app database, so the account page offers them for download.

Revision ID: 0009_qbr_decks
Revises: 0008_account_detail
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009_qbr_decks"
down_revision: str | None = "0008_account_detail"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "qbr_decks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_qbr_decks"),
        sa.UniqueConstraint("account_id", "as_of", name="uq_qbr_decks_account_id_as_of"),
    )
    op.create_index("ix_qbr_decks_account_id", "qbr_decks", ["account_id"])


def downgrade() -> None:
    op.drop_table("qbr_decks")
