"""Canonical tables that stay in the landing area: a view over their Parquet versions.

The heaviest entity (usage events: hundreds of millions of rows) is not copied into the
warehouse: its landed versions already are compressed, columnar and immutable, so the
canonical `events` is a view reading them where they lie. A row replaced by a later version
(same id) is listed in `_quarterdeck_superseded` and left out of the view.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from quarterdeck.contract.entities import ENTITIES, Entity
from quarterdeck.landing import manifest
from quarterdeck.landing.row_checks import literal, quote

SUPERSEDED = "_quarterdeck_superseded"


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the warehouse (or this connection's temporary schema) holds table `name`."""
    return bool(con.execute("SELECT count(*) FROM information_schema.tables "
                            "WHERE table_name = ?", [name]).fetchall()[0][0])


def ensure_superseded(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE TABLE IF NOT EXISTS {SUPERSEDED} "
                "(entity VARCHAR, version VARCHAR, key VARCHAR)")


def key_sql(ent: Entity, alias: str = "") -> str:
    """The row's id as one string (parts of a composite id joined by a unit separator)."""
    prefix = f"{alias}." if alias else ""
    parts = [f"CAST({prefix}{quote(k)} AS VARCHAR)" for k in ent.key]
    return parts[0] if len(parts) == 1 else " || chr(31) || ".join(parts)


def _versions_sql(paths: list[Path]) -> str:
    return "[" + ", ".join(literal(str(p)) for p in paths) + "]"


def view_sql(ent: Entity, landing_dir: Path, versions: list[str],
             has_superseded: bool = True) -> str:
    """SELECT of the entity's live rows across its committed versions (relative paths).

    Without superseded rows the view is a plain scan, which the engine streams and spills
    freely; the anti-join is only added when some rows were replaced.
    """
    if not versions:
        cols = ", ".join(f"CAST(NULL AS {c.sql_type}) AS {quote(c.name)}" for c in ent.columns)
        return f"SELECT {cols} WHERE false"
    paths = _versions_sql([landing_dir / v for v in versions])
    if not has_superseded:
        return f"SELECT * FROM read_parquet({paths}, union_by_name = true)"
    prefix = literal(str(landing_dir) + "/")
    return (
        f"SELECT * EXCLUDE (filename) FROM read_parquet({paths}, "
        f"filename = true, union_by_name = true) v WHERE NOT EXISTS (SELECT 1 FROM {SUPERSEDED} s "
        f"WHERE s.entity = {literal(ent.name)} AND s.version = replace(v.filename, {prefix}, '') "
        f"AND s.key = {key_sql(ent, 'v')})")


def refresh_view(con: duckdb.DuckDBPyConnection, ent: Entity, landing_dir: Path,
                 versions: list[str], *, temporary: bool = False) -> None:
    """(Re)create the entity's view over `versions`; `temporary`: as a view of this
    connection only, over the stored one (a read-only warehouse can hold no new view)."""
    if not temporary:
        ensure_superseded(con)
        exists = con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = ?",
            [ent.name]).fetchall()
        if exists and exists[0][0] != "VIEW":
            con.execute(f"DROP TABLE {quote(ent.name)}")
    replaced = table_exists(con, SUPERSEDED) and con.execute(
        f"SELECT count(*) FROM {SUPERSEDED} WHERE entity = ?", [ent.name]).fetchall()[0][0]
    body = view_sql(ent, landing_dir, versions, has_superseded=bool(replaced))
    kind = "TEMP VIEW" if temporary else "VIEW"
    con.execute(f"CREATE OR REPLACE {kind} {quote(ent.name)} AS {body}")


def follow_landing(con: duckdb.DuckDBPyConnection, landing_dir: Path, *,
                   read_only: bool = False) -> list[str]:
    """Point the views of the entities kept in the landing area at `landing_dir` where they
    read another folder: the workspace was moved, or restored from a copy made elsewhere.
    The views name their versions' full paths, so a view left behind reads files that are
    gone, or another copy's. On a `read_only` connection the views are the connection's own
    (temporary, in front of the stored ones) until a writer points the stored ones anew.
    Returns the entities whose views were pointed anew."""
    if not table_exists(con, manifest.TABLE):
        return []
    views = dict(con.execute(
        "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal").fetchall())
    kept = manifest.Manifest(con)
    moved = []
    for ent in ENTITIES.values():
        if ent.storage != "landing" or ent.name not in views:
            continue
        versions = kept.versions(ent.name)
        if any(literal(str(landing_dir / v)) not in views[ent.name] for v in versions):
            refresh_view(con, ent, landing_dir, versions, temporary=read_only)
            moved.append(ent.name)
    return moved


def supersede(con: duckdb.DuckDBPyConnection, ent: Entity, landing_dir: Path,
              older: list[str], new_rows_sql: str) -> None:
    """Record the rows of older versions whose ids the new rows replace."""
    if not older:
        return
    prefix = literal(str(landing_dir) + "/")
    paths = _versions_sql([landing_dir / v for v in older])
    con.execute(
        f"INSERT INTO {SUPERSEDED} SELECT {literal(ent.name)}, replace(v.filename, {prefix}, ''), "
        f"{key_sql(ent, 'v')} FROM read_parquet({paths}, filename = true, union_by_name = true) v "
        f"SEMI JOIN (SELECT {key_sql(ent)} AS key FROM {new_rows_sql}) n "
        f"ON {key_sql(ent, 'v')} = n.key")
