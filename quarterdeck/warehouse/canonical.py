"""The canonical tables: the data contract's entities as they stand in the warehouse.

Once identity resolution has run (`quarterdeck.identity`), they are seen through it: one
`accounts` row per customer, and every account id replaced by its customer's, so a ticket
filed under a help-desk duplicate counts for the customer. Everything downstream reads the
tables through `canonical_tables`.
"""

from __future__ import annotations

import ibis.expr.types as ir
from ibis.backends import BaseBackend

from quarterdeck.contract.entities import ENTITIES
from quarterdeck.identity.customer_map import moved_accounts, resolved_tables
from quarterdeck.identity.tables import ACCOUNT_RESOLUTION, CUSTOMER_ACCOUNTS
from quarterdeck.warehouse.schema import empty_table


def loaded_tables(con: BaseBackend, present: set[str] | None = None
                  ) -> dict[str, ir.Table]:
    """Every entity's table as loaded, by entity name; an entity never loaded is empty."""
    present = set(con.list_tables()) if present is None else present
    return {name: con.table(name) if name in present else empty_table(name)
            for name in ENTITIES}


def canonical_tables(con: BaseBackend) -> dict[str, ir.Table]:
    """Every entity's table, by entity name, resolved to customers when resolution has run
    and merged any accounts; an entity never loaded is an empty table."""
    present = set(con.list_tables())
    tables = loaded_tables(con, present)
    if ACCOUNT_RESOLUTION not in present or CUSTOMER_ACCOUNTS not in present:
        return tables
    resolution = con.table(ACCOUNT_RESOLUTION)
    # Nothing merged: the loaded tables are the customers' (and no join is worth planning).
    if con.execute(moved_accounts(resolution).count()) == 0:
        return tables
    return resolved_tables(tables, resolution, con.table(CUSTOMER_ACCOUNTS))
