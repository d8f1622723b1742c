"""Results several queries of one run read, computed once and held where the engine allows.

On DuckDB a derived table of a few hundred thousand rows costs milliseconds to hand back, and
every later query then reads it instead of recomputing it (backend feature `shared_results`).
PostgreSQL and Spark compute each query where the data lives, so there the expression itself
is shared, and each query computes it.

Spark's planner, for its part, plans a shared subexpression again in every place a query reads
it, and a stage's plan (the health features at three dates, then their scores, reasons and
changes) grows until planning costs minutes. There a stage's deep intermediate result is
cached in the session (backend feature `staged_plans`) and later queries read the cache.

Example: materialised(subscription_rows, engine_of(tables)) → an in-memory table on DuckDB,
`subscription_rows` itself on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from quarterdeck.warehouse.backends import capabilities


def engine_of(tables: Mapping[str, ir.Table]) -> BaseBackend | None:
    """The engine `tables` live on: their backend, the default one when they are all
    in-memory tables, None when any is unbound (expressions built to be compiled, not run)."""
    found: list[BaseBackend] = []
    for table in tables.values():
        backends, unbound = table._find_backends()
        if unbound:
            return None
        found.extend(backends)
    return found[0] if found else ibis.get_backend()


def holds_results(engine: BaseBackend | None) -> bool:
    """Whether `engine` holds shared results in memory (see the module)."""
    return engine is not None and capabilities(engine).supports("shared_results")


def materialised(expr: ir.Table, engine: BaseBackend | None) -> ir.Table:
    """`expr` computed now on `engine` and held as an in-memory table where the engine
    holds shared results; elsewhere (PostgreSQL, Spark, unbound tables) `expr` itself,
    computed where it is read."""
    if not holds_results(engine):
        return expr
    return ibis.memtable(engine.to_pyarrow(expr))


def staged(expr: ir.Table, engine: BaseBackend | None) -> ir.Table:
    """`expr` cached in the engine's session where the engine plans shared subexpressions once
    per reference (Spark; computed on first read, released with the table); `expr` itself
    elsewhere (DuckDB and PostgreSQL plan a shared subexpression once)."""
    if engine is None or not capabilities(engine).supports("staged_plans"):
        return expr
    return expr.cache()
