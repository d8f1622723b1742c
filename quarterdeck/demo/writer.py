"""Writes demo tables as Parquet, typed exactly as the data contract says.

Type mapping: strings, emails, currencies and JSON as `string`; dates as `date32`; timestamps as
`timestamp[us, UTC]`; money and quantities as `decimal128(18, 6)`; rates as `decimal128(24, 12)`;
integers as `int64`; numbers as `float64`; booleans as `bool`. Files are written without any
wall-clock metadata, so the same data gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from quarterdeck.contract import ENTITIES
from quarterdeck.demo.timeline import NULL_INT

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "email": pa.string(),
    "currency": pa.string(),
    "json": pa.string(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "decimal": pa.decimal128(18, 6),
    "rate": pa.decimal128(24, 12),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
}
DECIMAL_PLACES = {"decimal": 6, "rate": 12}
PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "write_statistics": True}


def arrow_schema(entity_name: str) -> pa.Schema:
    """The Arrow schema of an entity's demo file: the contract's columns in order."""
    entity = ENTITIES[entity_name]
    return pa.schema(
        [pa.field(c.name, ARROW_TYPES[c.type], nullable=not c.required) for c in entity.columns]
    )


def to_arrow(values: Any, logical_type: str) -> pa.Array:
    """One column as Arrow. Missing values: None in lists, NaN in floats, NULL_INT in ints."""
    arrow_type = ARROW_TYPES[logical_type]
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values.cast(arrow_type)
    if isinstance(values, list) and logical_type in ("date", "timestamp", "integer"):
        values = [NULL_INT if v is None else v for v in values]
    if isinstance(values, list) and logical_type in DECIMAL_PLACES:
        values = [np.nan if v is None else v for v in values]
    if logical_type in ("date", "timestamp", "integer"):
        ints = np.asarray(values, dtype=np.int64)
        storage = pa.int32() if logical_type == "date" else pa.int64()
        mask = ints == NULL_INT
        return pa.array(np.where(mask, 0, ints), type=storage, mask=mask).cast(arrow_type)
    if logical_type in DECIMAL_PLACES:
        floats = np.round(np.asarray(values, dtype=np.float64), DECIMAL_PLACES[logical_type])
        return pa.array(floats, mask=np.isnan(floats)).cast(arrow_type)
    if logical_type == "number":
        return pa.array(np.asarray(values, dtype=np.float64), type=arrow_type)
    if logical_type == "boolean" and isinstance(values, np.ndarray):
        return pa.array(values.astype(bool), type=arrow_type)
    return pa.array(list(values) if isinstance(values, np.ndarray) else values, type=arrow_type)


def entity_table(entity_name: str, columns: Mapping[str, Any]) -> pa.Table:
    """A table of the entity's columns; columns not given are written empty (all null), and
    columns the contract does not name follow as text (custom attributes)."""
    entity = ENTITIES[entity_name]
    lengths = {len(v) for v in columns.values()}
    if len(lengths) != 1:
        raise ValueError(f"{entity_name}: columns of different lengths {sorted(lengths)}")
    (n,) = lengths
    arrays = []
    for c in entity.columns:
        if c.name in columns:
            arrays.append(to_arrow(columns[c.name], c.type))
        else:
            arrays.append(pa.nulls(n, ARROW_TYPES[c.type]))
    table = pa.Table.from_arrays(arrays, schema=arrow_schema(entity_name))
    known = {c.name for c in entity.columns}
    for name, values in columns.items():
        if name not in known:
            table = table.append_column(name, pa.array(values, pa.string()))
    return table


def write_entity(data_dir: Path, entity_name: str, columns: Mapping[str, Any]) -> int:
    """Write `<data_dir>/<entity>.parquet`; returns the number of rows."""
    table = entity_table(entity_name, columns)
    pq.write_table(table, data_dir / f"{entity_name}.parquet", **PARQUET_OPTIONS)
    return table.num_rows


def write_truth(truth_dir: Path, name: str, table: pa.Table) -> int:
    """Write a ground-truth table (not part of the contract) to `<truth_dir>/<name>.parquet`."""
    pq.write_table(table, truth_dir / f"{name}.parquet", **PARQUET_OPTIONS)
    return table.num_rows


class ChunkedEntityWriter:
    """Streams one entity to Parquet a chunk (row group) at a time, for tables too big to hold."""

    def __init__(self, data_dir: Path, entity_name: str) -> None:
        self.entity_name = entity_name
        self.rows = 0
        self._writer = pq.ParquetWriter(
            data_dir / f"{entity_name}.parquet", arrow_schema(entity_name), **PARQUET_OPTIONS
        )

    def write(self, columns: Mapping[str, Any]) -> None:
        table = entity_table(self.entity_name, columns)
        if table.num_rows:
            self._writer.write_table(table, row_group_size=1_000_000)
            self.rows += table.num_rows

    def close(self) -> int:
        self._writer.close()
        return self.rows
