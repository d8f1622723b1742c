"""The canonical tables: the data contract's entities as they stand in the warehouse."""

from __future__ import annotations

import ibis.expr.types as ir
from ibis.backends import BaseBackend

from quarterdeck.contract.entities import ENTITIES
from quarterdeck.warehouse.schema import empty_table


def canonical_tables(con: BaseBackend) -> dict[str, ir.Table]:
    """Every entity's table, by entity name; an entity never loaded is an empty table."""
    present = set(con.list_tables())
    return {name: con.table(name) if name in present else empty_table(name)
            for name in ENTITIES}
