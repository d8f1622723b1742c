"""What each account is, for slicing revenue: segment, region, owner, plan, cohort, hierarchy.

`account_dimensions` gives one row per account known at the as-of date with the columns a
report groups by; a missing value reads "(none)" so that it forms a group of its own.
`top_ancestors` follows `parent_account_id` up to the top of each hierarchy, for reporting
children under their parent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from quarterdeck.warehouse.schema import canonical_schema, empty_table
from quarterdeck.warehouse.subscription_mrr import day_after, subscription_mrr

NONE = "(none)"
# How far up a hierarchy is followed; deeper chains stop at the sixth ancestor.
HIERARCHY_LEVELS = 6
_CONTRACT_DIMENSIONS = {"segment": "segment", "region": "region", "country": "country",
                        "industry": "industry", "owner": "owner_email",
                        "parent_account_id": "parent_account_id"}


def table_of(tables: Mapping[str, ir.Table], name: str) -> ir.Table:
    """The canonical table `name` from `tables`, or an empty one when it was never loaded."""
    return tables[name] if name in tables else empty_table(name)


def known_accounts(accounts: ir.Table, as_of: date) -> ir.Table:
    """The accounts that exist as of `as_of` (created by then, or creation unknown)."""
    return accounts.filter(accounts.created_at.isnull()
                           | (accounts.created_at < day_after(as_of)))


def top_ancestors(accounts: ir.Table, *, as_of: date,
                  levels: int = HIERARCHY_LEVELS) -> ir.Table:
    """Each account known at `as_of` with its top-level ancestor (itself when it has no parent).

    The chain follows `parent_account_id` up to `levels` steps and stops at the last known
    account: a parent that is missing, or already on the chain (a cycle), ends it.
    Example: c → b → a gives (c, a), (b, a), (a, a).
    Columns: account_id, top_account_id.
    """
    known = known_accounts(accounts, as_of)
    parents = known.select(top_account_id=known.account_id,
                           step_parent=known.parent_account_id)
    ids = known.select(step_parent=known.account_id, parent_id=known.account_id)
    chain = known.select("account_id", top_account_id=known.account_id,
                         seen=ibis.array([known.account_id]))
    for _ in range(levels):
        # Joined by column name, each step on fresh views of the accounts.
        j = chain.left_join(parents.view(), "top_account_id").drop("top_account_id_right")
        j = j.left_join(ids.view(), "step_parent").drop("step_parent_right")
        # A missing parent or one already on the chain (a cycle) keeps the current top.
        moves = j.parent_id.notnull() & ~j.seen.contains(j.parent_id).fill_null(False)
        chain = j.select(
            "account_id",
            top_account_id=ibis.ifelse(moves, j.parent_id, j.top_account_id),
            seen=ibis.ifelse(moves, j.seen.concat(ibis.array([j.parent_id])), j.seen),
        )
    return chain.select("account_id", "top_account_id")


def _custom_columns(accounts: ir.Table) -> list[str]:
    contract = set(canonical_schema("accounts").names)
    return [name for name in accounts.columns if name not in contract]


def _main_rows(rows: ir.Table, as_of: date) -> ir.Table:
    """Per account, its largest-MRR paying row running on the account's latest paying day."""
    paid = rows.filter(rows.mrr > 0)
    # An account pays on a day iff one of its paid rows runs then, so its latest paying day
    # is the latest last-running day of those rows.
    last_day = ibis.ifelse(paid.end_date.isnull() | (paid.end_date > as_of),
                           ibis.literal(as_of), paid.end_date - ibis.interval(days=1))
    paid = paid.mutate(last_day=last_day.cast(dt.date))
    per_account = paid.group_by("account_id").agg(latest=paid.last_day.max(),
                                                  first_paid=paid.start_date.min())
    j = paid.join(per_account, "account_id")
    running = j.filter((j.start_date <= j.latest) & (j.last_day >= j.latest))
    order = ibis.window(group_by=running.account_id,
                        order_by=[running.mrr.desc(), running.subscription_id])
    ranked = running.mutate(rank=ibis.row_number().over(order))
    first = ranked.filter(ranked.rank == 0)
    return first.select("account_id", "plan", "currency", "first_paid")


def account_dimensions(tables: Mapping[str, ir.Table], *, as_of: date,
                       base_currency: str, subscription_rows: ir.Table | None = None) -> ir.Table:
    """One row per account known at `as_of` with what reports group revenue by.

    Columns: account_id, segment, region, country, industry, owner (owner_email),
    parent_account_id, plan and currency (of the account's largest-MRR row running on its
    latest paying day; ties go to the smallest subscription_id), cohort_month (the 1st of its
    first paying month; NULL if it never paid), then every custom attribute of `accounts`.
    A missing text value reads "(none)".
    Example: an account paying 500.00 on "team" and 100.00 on "addon" since 2024-01-15 has
    plan "team" and cohort_month 2024-01-01. `subscription_rows` is `subscription_mrr` of the
    same date and currency when the caller has it already.
    """
    accounts = known_accounts(table_of(tables, "accounts"), as_of)
    rows = subscription_rows
    if rows is None:
        rows = subscription_mrr(table_of(tables, "subscriptions"), table_of(tables, "fx_rates"),
                                as_of=as_of, base_currency=base_currency)
    j = accounts.left_join(_main_rows(rows, as_of), "account_id")

    def text(value: ir.Value) -> ir.StringValue:
        return value.cast(dt.string).fill_null(NONE)

    month = j.first_paid.truncate("M").cast(dt.date)
    return j.select(
        "account_id",
        **{name: text(j[column]) for name, column in _CONTRACT_DIMENSIONS.items()},
        plan=text(j.plan),
        currency=text(j.currency),
        cohort_month=month,
        **{name: text(j[name]) for name in _custom_columns(accounts)},
    )
