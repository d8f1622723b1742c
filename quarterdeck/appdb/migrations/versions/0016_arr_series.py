"""An account's monthly ARR of a published day is one row per account, its months packed as
JSON, instead of a row per account and month: a daily publish of a large book wrote half a
million rows again each day for months that rarely change.

Revision ID: 0016_arr_series
Revises: 0015_account_detail_published
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0016_arr_series"
down_revision: str | None = "0015_account_detail_published"
branch_labels: str | None = None
depends_on: str | None = None

# Each dialect's JSON of one (month, arr) pair: the amount as an exact decimal string.
_PAIR = {
    "sqlite": "json_array(month, CASE WHEN arr IS NULL THEN NULL ELSE printf('%.2f', arr) END)",
    "postgresql": "json_build_array(to_char(month, 'YYYY-MM-DD'), arr::text)",
}
_PACK = {"sqlite": "json_group_array({pair})",
         "postgresql": "json_agg({pair} ORDER BY month)::text"}


def upgrade() -> None:
    op.create_table(
        "account_arr_series",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("months", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("as_of", "account_id", name=op.f("pk_account_arr_series")),
    )
    dialect = op.get_bind().dialect.name
    pack = _PACK[dialect].format(pair=_PAIR[dialect])
    # The readers put the months in order, so SQLite's aggregate order does not matter.
    op.execute(
        "INSERT INTO account_arr_series (as_of, account_id, months) "
        f"SELECT as_of, account_id, {pack} FROM account_arr_history GROUP BY as_of, account_id")
    op.drop_table("account_arr_history")


def downgrade() -> None:
    op.create_table(
        "account_arr_history",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("arr", sa.Numeric(18, 2), nullable=False),
        sa.PrimaryKeyConstraint("as_of", "account_id", "month",
                                name=op.f("pk_account_arr_history")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "INSERT INTO account_arr_history (as_of, account_id, month, arr) "
            "SELECT s.as_of, s.account_id, (p->>0)::date, (p->>1)::numeric "
            "FROM account_arr_series s, json_array_elements(s.months::json) AS p")
    else:
        op.execute(
            "INSERT INTO account_arr_history (as_of, account_id, month, arr) "
            "SELECT s.as_of, s.account_id, json_extract(p.value, '$[0]'), "
            "CAST(json_extract(p.value, '$[1]') AS NUMERIC) "
            "FROM account_arr_series s, json_each(s.months) AS p")
    op.drop_table("account_arr_series")
