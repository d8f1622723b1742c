"""The canonical tables seen through identity resolution: every account id is its customer's.

`accounts` becomes `customer_accounts` (one row per customer, survivorship applied) plus any
account loaded since the last resolution, as it is; in every other entity (and in `users`)
`account_id` is replaced by its customer id. Only the small map of accounts that are not
their own customer is joined (a left join and a coalesce), so even 100M events stay a
cheap hash join where they live, on any backend.

Example: a ticket filed under the help desk's `zd-10015` counts for customer `acct-000123`.
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import ibis.expr.types as ir

FROM, TO = "_qd_merged_account_id", "_qd_customer_id"


def moved_accounts(resolution: ir.Table) -> ir.Table:
    """The map of accounts resolved into another account's customer: (FROM, TO)."""
    moved = resolution.filter(resolution.account_id != resolution.customer_id)
    return moved.select(**{FROM: moved.account_id, TO: moved.customer_id})


def map_account_column(table: ir.Table, moved: ir.Table, column: str = "account_id"
                       ) -> ir.Table:
    """`table` with `column` replaced by the customer id where the map has one."""
    joined = table.left_join(moved, table[column] == moved[FROM])
    return joined.select(*[
        ibis.coalesce(joined[TO], joined[c]).name(c) if c == column else joined[c]
        for c in table.columns])


def resolved_accounts(accounts: ir.Table, resolution: ir.Table, customers: ir.Table,
                      moved: ir.Table) -> ir.Table:
    """One row per customer, in the columns and types of `accounts`."""
    schema = accounts.schema()
    resolved = customers.select(*[
        customers[c].cast(t).name(c) if c in customers.columns else ibis.null(t).name(c)
        for c, t in schema.items()])
    unresolved = accounts.anti_join(resolution, accounts.account_id == resolution.account_id)
    return resolved.union(map_account_column(unresolved, moved, "parent_account_id"))


def resolved_tables(tables: Mapping[str, ir.Table], resolution: ir.Table,
                    customers: ir.Table) -> dict[str, ir.Table]:
    """Every canonical table with account ids mapped to customer ids."""
    moved = moved_accounts(resolution)
    out = {}
    for name, table in tables.items():
        if name == "accounts":
            out[name] = resolved_accounts(table, resolution, customers, moved)
        elif "account_id" in table.columns:
            out[name] = map_account_column(table, moved)
        else:
            out[name] = table
    return out
