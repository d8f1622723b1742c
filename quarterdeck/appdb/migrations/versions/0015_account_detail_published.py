"""The day whose account detail is kept and the token of its publish, so that a daily publish
writes only the rows that changed since the one before.

Revision ID: 0015_account_detail_published
Revises: 0014_milestones_reached
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0015_account_detail_published"
down_revision: str | None = "0014_milestones_reached"
branch_labels: str | None = None
depends_on: str | None = None

DETAIL = ("account_timeline", "account_contacts", "account_subscriptions",
          "account_opportunities", "account_usage_weekly")


def upgrade() -> None:
    op.create_table(
        "account_detail_published",
        sa.Column("token", sa.String(32), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token", name="pk_account_detail_published"),
    )
    # Detail published before: its day is the latest day of its rows. The token matches no
    # copy, so the next publish writes every row.
    latest = " UNION ALL ".join(f"SELECT max(as_of) AS as_of FROM {t}" for t in DETAIL)
    op.execute(
        "INSERT INTO account_detail_published (token, as_of, published_at) "
        f"SELECT 'upgraded', max(as_of), CURRENT_TIMESTAMP FROM ({latest}) AS days "
        "HAVING max(as_of) IS NOT NULL")


def downgrade() -> None:
    op.drop_table("account_detail_published")
