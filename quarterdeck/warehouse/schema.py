"""The canonical warehouse tables' schemas, derived from the data contract.

A canonical table is named after its entity and has exactly the contract's columns, typed as
below, followed by any custom-attribute columns (strings) the loaded files carried.
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import ibis.expr.datatypes as dt

from quarterdeck.contract.entities import ENTITIES, Entity

IBIS_TYPES: dict[str, dt.DataType] = {
    "string": dt.string,
    "email": dt.string,
    "currency": dt.string,
    "json": dt.string,
    "date": dt.date,
    "timestamp": dt.Timestamp(),  # UTC, without zone
    "decimal": dt.Decimal(18, 6),
    "rate": dt.Decimal(24, 12),
    "integer": dt.int64,
    "number": dt.float64,
    "boolean": dt.boolean,
}


def canonical_schema(entity: Entity | str) -> ibis.Schema:
    """The Ibis schema of the canonical table for `entity`."""
    ent = ENTITIES[entity] if isinstance(entity, str) else entity
    return ibis.schema({c.name: IBIS_TYPES[c.type] for c in ent.columns})


def empty_table(entity: Entity | str) -> ibis.Table:
    """An empty in-memory table with the canonical schema (for entities never loaded)."""
    return ibis.memtable(canonical_schema(entity).to_pyarrow().empty_table())


def entity_table(tables: Mapping[str, ibis.Table], entity: str) -> ibis.Table:
    """`tables[entity]`, or an empty canonical table when that entity was never loaded."""
    return tables[entity] if entity in tables else empty_table(entity)
