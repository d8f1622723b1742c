"""The worlds the cross-backend suite loads, and how results are compared between backends.

Kept apart from the behaviours so that conftest.py can import it before pytest knows the
`notimpl` marker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis.expr.datatypes as dt
import pyarrow as pa

from quarterdeck.testing import worlds

# Tiny data: planning and code generation cost more than they save.
SPARK_TEST_CONF = {"spark.sql.adaptive.enabled": "false", "spark.sql.shuffle.partitions": "1",
                   "spark.sql.codegen.wholeStage": "false"}

#: The worlds behaviours run on, by name.
WORLDS: dict[str, Callable[[], dict[str, pa.Table]]] = {
    "reference": worlds.reference_world,
    "missing_rate": lambda: worlds.merge(worlds.reference_world(), worlds.missing_rate()),
}


def sorted_rows(table: pa.Table) -> list[dict[str, Any]]:
    """Rows as dicts in a canonical order (None sorts first), for comparing backends."""
    def key(row: dict[str, Any]) -> list[tuple[bool, Any]]:
        return [(v is not None, v) for v in row.values()]

    return sorted(table.to_pylist(), key=key)


def comparable_type(typ: dt.DataType) -> dt.DataType:
    """`typ` without nullability; a timestamp of unstated precision is microseconds, which is
    what every backend here stores."""
    if typ.is_timestamp():
        return dt.Timestamp(timezone=typ.timezone, scale=typ.scale or 6)
    return typ.copy(nullable=True)
