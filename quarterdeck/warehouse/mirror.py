"""Mirroring the canonical tables from the DuckDB staging warehouse into another warehouse.

Files are validated and landed with DuckDB whatever the warehouse is. When the workspace's
warehouse is PostgreSQL or Spark, a DuckDB file `data/staging.duckdb` holds the manifest and
the canonical tables, and after each load the entities whose loads the target has not seen
are copied there, typed exactly as the canonical schema says:

- PostgreSQL: each stale table is built as `<name>__new` with COPY (CSV encoded from Arrow
  record batches, streamed), then ONE transaction drops the old tables, renames the new ones
  and replaces the copy of the load manifest `_quarterdeck_loads`. Readers see the old
  tables or the new ones, never a mix.
- Spark: each stale table is written as a Parquet file under the Spark folder, then the
  folder's `catalog.json` (which file is each table, which loads it holds) is replaced
  atomically. `attach_spark_tables` registers the files as views when a session connects.

What the target holds is its copy of the manifest, so a mirror interrupted by a crash is
completed by the next load. Example: mirror(staging, "postgresql://host/db", root=ws.root).
"""

from __future__ import annotations

import io
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa
import pyarrow.csv as pcsv
from ibis.backends.sql.datatypes import PostgresType

from quarterdeck.contract.entities import ENTITIES
from quarterdeck.landing.manifest import TABLE as MANIFEST
from quarterdeck.landing.row_checks import literal, quote
from quarterdeck.warehouse.backends import backend_of_url
from quarterdeck.warehouse.connection import postgres_url, spark_location
from quarterdeck.warehouse.schema import canonical_schema

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

STAGING_FILE = "staging.duckdb"
CATALOG_FILE = "catalog.json"
BATCH_ROWS = 100_000
Progress = Callable[[str, str], None]


def staging_url(data_dir: Path) -> str:
    """The DuckDB URL of the staging warehouse in a workspace's data folder."""
    return f"duckdb://{data_dir / STAGING_FILE}"


def mirror(staging: duckdb.DuckDBPyConnection, url: str, *, root: Path | None = None,
           progress: Progress | None = None, derived: tuple[str, ...] = (),
           refresh_derived: bool = False) -> list[str]:
    """Copy the canonical tables the target at `url` lacks or holds stale; return their names.

    `derived` names staged tables computed at load time (identity resolution's): they are
    copied in the same swap whenever anything else is, or when `refresh_derived` says they
    changed."""
    step = progress or (lambda table, stage: None)
    kind = backend_of_url(url)
    loads = _load_marks(staging.execute(f"SELECT entity, load_id FROM {MANIFEST}").fetchall())
    staged = {r[0] for r in staging.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    extra = [name for name in derived if name in staged]
    if kind == "postgres":
        return _mirror_postgres(staging, postgres_url(url), loads, step, extra, refresh_derived)
    if kind == "pyspark":
        _, folder, _ = spark_location(url, root)
        if folder is None:
            raise ValueError("a Spark warehouse needs a folder: pass root or ?warehouse=")
        return _mirror_spark(staging, folder, loads, step, extra, refresh_derived)
    return []


def _load_marks(rows: list[tuple[str, int]]) -> dict[str, int]:
    """The latest load id per entity (0 for an entity never loaded)."""
    marks = dict.fromkeys(ENTITIES, 0)
    for entity, load_id in rows:
        marks[entity] = max(marks.get(entity, 0), int(load_id))
    return marks


def _select_sql(staging: duckdb.DuckDBPyConnection, name: str) -> str:
    """SELECT of a staged table with the canonical columns cast to their contract types."""
    names = [r[0] for r in staging.execute(f"DESCRIBE {quote(name)}").fetchall()]
    ent = ENTITIES.get(name)
    if ent is None:
        return f"SELECT * FROM {quote(name)}"
    custom = [n for n in names if n not in ent.column_names]
    cols = [f"CAST({quote(c.name)} AS {c.sql_type}) AS {quote(c.name)}" for c in ent.columns]
    return f"SELECT {', '.join(cols + [quote(c) for c in custom])} FROM {quote(name)}"


def _schema(staging: duckdb.DuckDBPyConnection, sql: str, name: str) -> ibis.Schema:
    arrow = _arrow_reader(staging.execute(f"{sql} LIMIT 0")).schema
    schema = dict(ibis.Schema.from_pyarrow(arrow).items())
    if name in ENTITIES:
        schema.update(canonical_schema(name).items())
    return ibis.schema(schema)


def _arrow_reader(cursor: duckdb.DuckDBPyConnection) -> pa.RecordBatchReader:
    """The cursor's rows as a stream of Arrow record batches (any supported DuckDB release)."""
    read = getattr(cursor, "to_arrow_reader", None) or cursor.fetch_record_batch
    return read(BATCH_ROWS)


# -- PostgreSQL --------------------------------------------------------------------------

def _mirror_postgres(staging: duckdb.DuckDBPyConnection, url: str, loads: dict[str, int],
                     step: Progress, extra: list[str], refresh: bool) -> list[str]:
    import psycopg

    with psycopg.connect(url) as pg:
        held = _postgres_marks(pg)
        stale = [n for n in ENTITIES if n not in held or held[n] != loads[n]]
        stale += extra if stale or refresh else []
        if not stale:
            return []
        for name in [*stale, MANIFEST]:
            step(name, "mirroring to PostgreSQL")
            _build_postgres(staging, pg, name)
            pg.commit()
        with pg.transaction(), pg.cursor() as cur:
            for name in [*stale, MANIFEST]:
                cur.execute(f"DROP TABLE IF EXISTS {quote(name)}")
                cur.execute(f"ALTER TABLE {quote(name + '__new')} RENAME TO {quote(name)}")
    return stale


def _postgres_marks(pg: object) -> dict[str, int]:
    """Latest mirrored load per entity; only entities whose table exists in the target."""
    with pg.cursor() as cur:  # type: ignore[attr-defined]
        cur.execute("SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema()")
        present = {r[0] for r in cur.fetchall()}
        if MANIFEST not in present:
            return {}
        cur.execute(f"SELECT entity, load_id FROM {MANIFEST}")
        marks = _load_marks(cur.fetchall())
    return {n: m for n, m in marks.items() if n in present}


def _build_postgres(staging: duckdb.DuckDBPyConnection, pg: object, name: str) -> None:
    """Create `<name>__new` with the canonical types and COPY the staged rows into it."""
    sql = _select_sql(staging, name)
    schema = _schema(staging, sql, name)
    new = quote(name + "__new")
    cols = ", ".join(f"{quote(c)} {PostgresType.from_ibis(t).sql('postgres')}"
                     for c, t in schema.items())
    options = pcsv.WriteOptions(include_header=False)
    with pg.cursor() as cur:  # type: ignore[attr-defined]
        cur.execute(f"DROP TABLE IF EXISTS {new}")
        cur.execute(f"CREATE TABLE {new} ({cols})")
        reader = _arrow_reader(staging.execute(sql))
        names = ", ".join(quote(c) for c in schema.names)
        with cur.copy(f"COPY {new} ({names}) FROM STDIN (FORMAT csv)") as copy:
            for batch in reader:
                buffer = io.BytesIO()
                pcsv.write_csv(batch, buffer, options)
                copy.write(buffer.getvalue())


# -- Spark -------------------------------------------------------------------------------

def _mirror_spark(staging: duckdb.DuckDBPyConnection, folder: Path, loads: dict[str, int],
                  step: Progress, extra: list[str], refresh: bool) -> list[str]:
    catalog = read_spark_catalog(folder)
    held, files = catalog.get("loads", {}), dict(catalog.get("tables", {}))
    stale = [n for n in ENTITIES if n not in files or held.get(n) != loads[n]]
    stale += extra if stale or refresh else []
    if not stale:
        return []
    (folder / "tables").mkdir(parents=True, exist_ok=True)
    old = {files[n] for n in [*stale, MANIFEST] if n in files}
    schemas = dict(catalog.get("schemas", {}))
    for name in [*stale, MANIFEST]:
        step(name, "mirroring to Spark")
        # Spark skips files named with a leading "_" or "." as hidden.
        relative = f"tables/{name.strip('_')}-{secrets.token_hex(6)}.parquet"
        sql = _select_sql(staging, name)
        staging.execute(f"COPY ({sql}) TO {literal(str(folder / relative))} "
                        "(FORMAT parquet, COMPRESSION zstd)")
        files[name] = relative
        schemas[name] = [[c, str(t)] for c, t in _schema(staging, sql, name).items()]
    _write_atomically(folder / CATALOG_FILE,
                      json.dumps({"tables": files, "schemas": schemas, "loads": loads}))
    for relative in old:
        (folder / relative).unlink(missing_ok=True)
    return stale


def read_spark_catalog(folder: Path) -> dict:
    """The Spark folder's catalog: {"tables": {name: file}, "schemas": {name: [[column, Ibis
    type]]}, "loads": {entity: latest load id}}."""
    path = folder / CATALOG_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    with open(tmp, "w") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def attach_spark_tables(session: SparkSession, folder: Path) -> list[str]:
    """Register every table mirrored into `folder` as a view of `session`; return the names."""
    catalog = read_spark_catalog(folder)
    tables = catalog.get("tables", {})
    for name, relative in tables.items():
        # The stored schema, not inference: exact canonical types, and empty files read too.
        schema = ibis.schema({c: dt.dtype(t) for c, t in catalog["schemas"][name]})
        frame = session.read.schema(spark_types(schema)).parquet(str(folder / relative))
        frame.createOrReplaceTempView(name)
    return sorted(tables)


def spark_types(schema: ibis.Schema) -> object:
    """The Spark struct for an Ibis schema, naive timestamps as TIMESTAMP_NTZ (as mirrored)."""
    from ibis.backends.pyspark.datatypes import PySparkType
    from pyspark.sql import types as st

    def field(name: str, typ: dt.DataType) -> st.StructField:
        spark = st.TimestampNTZType() if typ.is_timestamp() and typ.timezone is None else \
            PySparkType.from_ibis(typ)
        return st.StructField(name, spark, True)

    return st.StructType([field(n, t) for n, t in schema.items()])
