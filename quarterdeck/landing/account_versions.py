"""Every loaded version of the accounts file, each with the time it became known.

The warehouse's `accounts` table holds each account as last loaded; the landing area keeps
every version ever loaded, and the load manifest says when each was committed. Together they
say what the CRM said about an account on any past day, which the churn model needs so that
an attribute changed later (a segment, a plan tier, a custom column) never leaks backwards
into the past it learns from (`quarterdeck.health.account_attributes`).

Example: account_versions(con, ws.landing_dir) → account_id, known_from, the accounts
columns of every version (None with fewer than two versions or off DuckDB).
"""

from __future__ import annotations

from pathlib import Path

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from quarterdeck.landing.manifest import TABLE as LOADS

ENTITY = "accounts"


def account_versions(con: BaseBackend, landing_dir: Path) -> ir.Table | None:
    """The accounts rows of every committed load with `known_from` (the load's commit time,
    UTC); None when there is at most one version (today's values are all there is) or the
    warehouse is not the embedded DuckDB that can read the landing area."""
    if con.name != "duckdb" or LOADS not in con.list_tables():
        return None
    loads = con.table(LOADS)
    loads = loads.filter(loads.entity == ENTITY).select("version", "loaded_at")
    found = [r for r in loads.to_pyarrow().to_pylist()
             if (Path(landing_dir) / r["version"]).exists()]
    if len(found) < 2:
        return None
    parts = []
    for r in found:
        v = con.read_parquet(Path(landing_dir) / r["version"])
        parts.append(v.mutate(known_from=ibis.literal(r["loaded_at"]).cast("timestamp")))
    columns = sorted(set().union(*(p.columns for p in parts)))
    typed = [p.select(*(p[c].cast("string") if c in p.columns and c != "known_from"
                        else p[c] if c in p.columns else ibis.null("string").name(c)
                        for c in columns)) for p in parts]
    return ibis.union(*typed)


def with_account_versions(tables: dict[str, ir.Table], con: BaseBackend,
                          landing_dir: Path) -> dict[str, ir.Table]:
    """`tables` plus `account_versions` when the landing area holds earlier versions."""
    versions = account_versions(con, landing_dir)
    return tables if versions is None else {**tables, "account_versions": versions}
