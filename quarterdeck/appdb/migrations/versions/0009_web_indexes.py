"""Indexes the pages need at scale: an account's health scores over the published days, its
children, its latest snapshot row and its lifecycle rows, each found by the account's id
instead of a scan of every published day.

Revision ID: 0009_web_indexes
Revises: 0008_account_detail
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision: str = "0009_web_indexes"
down_revision: str | None = "0008_account_detail"
branch_labels: str | None = None
depends_on: str | None = None

INDEXES = (
    ("health_scores", ("account_id", "as_of")),
    ("account_snapshots", ("as_of", "parent_account_id")),
    ("account_snapshots", ("account_id", "as_of")),
    ("lifecycle_stages", ("account_id", "as_of")),
)


def _name(table: str, columns: tuple[str, ...]) -> str:
    return f"ix_{table}_{'_'.join(columns)}"


def upgrade() -> None:
    for table, columns in INDEXES:
        op.create_index(_name(table, columns), table, list(columns))


def downgrade() -> None:
    for table, columns in reversed(INDEXES):
        op.drop_index(_name(table, columns), table_name=table)
