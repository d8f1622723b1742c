"""A warehouse-table source: any table Ibis can reach, mapped column by column onto an entity.

For a data team that already keeps CRM or billing data in its warehouse. Each mapped table is
one object of the source; its rows are read in Arrow batches where they live (no row-by-row
Python), renamed to the contract's columns, ids prefixed with the source's name (unless
`prefix_ids: false`), and loaded like any file: validated, landed, upserted by id.

With a `cursor` column (e.g. `updated_at`), a sync reads only rows whose cursor is at or past
the last value it loaded; rows sharing that last value are read again, which the upsert by id
makes harmless, so no row that arrives with an equal value is ever skipped. Without one, every
sync reads the whole table.

Example (`definitions/sources.yml`)::

    sources:
      data-team:
        kind: warehouse_table
        url: postgresql://analytics@db:5432/prod
        tables:
          - entity: accounts
            table: crm.companies
            columns: {account_id: company_id, name: company_name, domain: website}
            cursor: updated_at
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from quarterdeck.contract.entities import ENTITIES, Entity
from quarterdeck.errors import NotSupportedError, QuarterdeckError
from quarterdeck.sources.config import TableMapping
from quarterdeck.sources.connector import Connector, Cursor, Page
from quarterdeck.warehouse.backends import backend_of_url
from quarterdeck.warehouse.connection import connect

BATCH_ROWS = 100_000


def id_columns(entity: Entity) -> list[str]:
    """The columns holding ids: the key and every reference to another entity."""
    return [c.name for c in entity.columns if c.name in entity.key or c.references]


def _cursor_value(value: Any) -> Any:
    """A cursor value as JSON keeps it (timestamps and dates as ISO text)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _as_literal(value: Any, dtype: Any) -> Any:
    if isinstance(value, str) and dtype.is_timestamp():
        return dt.datetime.fromisoformat(value)
    if isinstance(value, str) and dtype.is_date():
        return dt.date.fromisoformat(value)
    return value


class WarehouseTableSource(Connector):
    kind = "warehouse_table"
    objects = ()

    def selected_objects(self) -> tuple[str, ...]:
        return tuple(m.table for m in self.source.tables)

    def entities(self) -> dict[str, str]:
        return {m.table: m.entity for m in self.source.tables}

    def _mapping(self, obj: str) -> TableMapping:
        return next(m for m in self.source.tables if m.table == obj)

    def _table(self, con: Any, name: str) -> ir.Table:
        schema, _, table = name.rpartition(".")
        try:
            return con.table(table, database=schema) if schema else con.table(table)
        except Exception as exc:
            raise QuarterdeckError(f"source {self.name!r}: cannot read table {name!r}: "
                                   f"{type(exc).__name__}: {exc}") from None

    def select(self, table: ir.Table, mapping: TableMapping, *extra: str) -> ir.Table:
        """The table's columns under the contract's names: mapped, same-named, and (when asked)
        the rest as custom attributes."""
        entity = ENTITIES[mapping.entity]
        contract = [c.name for c in entity.columns] + (
            ["external_ids"] if mapping.entity == "accounts" else [])
        columns, used = {}, set()
        for name in contract:
            source_col = mapping.columns.get(name, name if name in table.columns else None)
            if source_col is None:
                continue
            if source_col not in table.columns:
                raise QuarterdeckError(
                    f"source {self.name!r}, table {mapping.table!r}: mapping of {name!r} names "
                    f"column {source_col!r}, which the table does not have "
                    f"(it has {', '.join(table.columns)})")
            columns[name] = table[source_col]
            used.add(source_col)
        missing = [c.name for c in entity.columns if c.required and c.name not in columns]
        if missing:
            raise QuarterdeckError(
                f"source {self.name!r}, table {mapping.table!r}: no column for required "
                f"{', '.join(missing)} of {mapping.entity}; map it under `columns`")
        if mapping.keep_other_columns:
            for col in table.columns:
                if col not in used and col not in columns and col not in extra:
                    columns[col] = table[col]
        ids = set(id_columns(entity))
        return table.select(**{k: v.cast("string") if k in ids else v
                               for k, v in columns.items()}, **{e: table[e] for e in extra})

    def _prefixed(self, batch: pa.Table, entity: Entity) -> pa.Table:
        if not self.source.prefix_ids:
            return batch
        for name in id_columns(entity):
            if name in batch.column_names:
                i = batch.column_names.index(name)
                values = batch.column(name)
                prefixed = pc.binary_join_element_wise(f"{self.name}:", values, "")
                batch = batch.set_column(i, name, prefixed)
        return batch

    def pages(self, obj: str, cursor: Cursor) -> Iterator[Page]:
        mapping = self._mapping(obj)
        entity = ENTITIES[mapping.entity]
        con = connect_source(self.source.url)
        try:
            table = self._table(con, mapping.table)
            if mapping.cursor and mapping.cursor not in table.columns:
                raise QuarterdeckError(f"source {self.name!r}, table {mapping.table!r}: cursor "
                                       f"column {mapping.cursor!r} is not in the table")
            rows = table
            if mapping.cursor:
                rows = rows.mutate(qd_cursor__=rows[mapping.cursor])
                if cursor and cursor.get("value") is not None:
                    bound = _as_literal(cursor["value"], rows["qd_cursor__"].type())
                    rows = rows.filter(rows["qd_cursor__"] >= bound)
            selected = self.select(rows, mapping, *(["qd_cursor__"] if mapping.cursor else []))
            if mapping.cursor:
                selected = selected.order_by("qd_cursor__")
            last = cursor
            for batch in con.to_pyarrow_batches(selected, chunk_size=BATCH_ROWS):
                data = pa.Table.from_batches([batch])
                if data.num_rows == 0:
                    continue
                newest = None
                if mapping.cursor:
                    marks = data.column("qd_cursor__")
                    value = marks[-1].as_py()
                    last = {"value": _cursor_value(value)}
                    if isinstance(value, dt.datetime):
                        newest = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
                    data = data.drop_columns(["qd_cursor__"])
                yield Page({mapping.entity: self._prefixed(data, entity)},
                           last if mapping.cursor else None, newest=newest)
        finally:
            con.disconnect()


def connect_source(url: str) -> Any:
    """An Ibis connection to a source warehouse: the warehouses Quarterdeck runs on by their
    own rules (DuckDB in UTC, PostgreSQL, Spark), any other through `ibis.connect`."""
    try:
        backend_of_url(url)
    except NotSupportedError:
        return ibis.connect(url)
    return connect(url, read_only=url.startswith("duckdb"))
