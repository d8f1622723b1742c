"""Open the warehouse: an Ibis backend from a URL (embedded DuckDB by default).

URLs: `duckdb:///abs/path.duckdb`; PostgreSQL as `postgres://`, `postgresql://` or
`postgresql+psycopg://user@host/db`; Spark as `pyspark://local[2]` or `spark://local[N]`
(local mode; `spark://host:7077` is a cluster), optionally `?warehouse=/dir`: the folder whose
mirrored canonical tables the connection sees (default `data/spark` of the workspace at
`root`), and `&spark.some.setting=value` for the connection's session. See docs/backends.md.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import ibis
from ibis.backends import BaseBackend

from quarterdeck.owner_only import private_file, private_folder
from quarterdeck.warehouse import ibis_compile
from quarterdeck.warehouse.backends import backend_of_url

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from quarterdeck.workspace.workspace import Workspace

#: Settings of the one Spark session a process starts: small, quiet, deterministic and exact.
SPARK_CONF: dict[str, str] = {
    "spark.app.name": "quarterdeck",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": "4g",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.sql.session.timeZone": "UTC",
    # ANSI: overflow, bad casts and division by zero raise instead of giving NULL; decimal
    # products keep their scale (as DuckDB and PostgreSQL do) rather than rounding it away.
    "spark.sql.ansi.enabled": "true",
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.catalogImplementation": "in-memory",
}
_SESSION_CONF = ("spark.sql.shuffle.partitions", "spark.sql.session.timeZone",
                 "spark.sql.ansi.enabled", "spark.sql.decimalOperations.allowPrecisionLoss",
                 "spark.sql.parquet.inferTimestampNTZ.enabled",
                 "spark.sql.execution.arrow.pyspark.enabled")
_spark: SparkSession | None = None

ibis_compile.install()  # the same SQL in linear time (see the module)


def connect(url: str, *, memory_limit: str | None = None, threads: int | None = None,
            read_only: bool = False, root: Path | None = None) -> BaseBackend:
    """Connect to the warehouse at `url` (e.g. `duckdb:///abs/path.duckdb`, `postgres://…`).

    DuckDB sessions run in UTC so that timestamps without an offset mean UTC. `memory_limit`,
    `threads` and `read_only` apply to DuckDB only; `root` is the workspace folder, which a
    Spark URL's relative `warehouse` folder is resolved against.
    """
    kind = backend_of_url(url)
    if kind == "duckdb":
        return _connect_duckdb(url, memory_limit, threads, read_only)
    if kind == "postgres":
        return ibis.connect(postgres_url(url))
    return _connect_spark(url, root)


def is_duckdb(con: BaseBackend) -> bool:
    return con.name == "duckdb"


def postgres_url(url: str) -> str:
    """`url` in the `postgresql://` form Ibis and psycopg read (driver suffixes dropped)."""
    rest = url.split("://", 1)[1]
    return f"postgresql://{rest}"


def duckdb_path(url: str) -> str:
    """The database file a `duckdb://` URL names, or `:memory:`."""
    return url[len("duckdb://"):] or ":memory:"


def _connect_duckdb(url: str, memory_limit: str | None, threads: int | None,
                    read_only: bool) -> BaseBackend:
    path = duckdb_path(url)
    if path != ":memory:":
        private_folder(Path(path).parent)
    config: dict[str, object] = {}
    if memory_limit:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = threads
    con = ibis.duckdb.connect(path, read_only=read_only, **config)
    if path != ":memory:" and not read_only:
        private_file(Path(path))  # every customer's data: readable by the owner only
    con.raw_sql("SET TimeZone = 'UTC'")
    # Derived tables never rely on row order; not keeping it lets big aggregations spill.
    con.raw_sql("SET preserve_insertion_order = false")
    con.raw_sql("SET enable_progress_bar = false")
    return con


def spark_location(url: str, root: Path | None = None
                   ) -> tuple[str, Path | None, dict[str, str]]:
    """The Spark master, mirror folder and extra `spark.*` settings of a Spark URL.

    Example: "spark://local[4]?warehouse=data/spark&spark.sql.adaptive.enabled=false" with
    root /ws → ("local[4]", /ws/data/spark, {"spark.sql.adaptive.enabled": "false"}).
    """
    scheme, rest = url.split("://", 1)
    target, _, query = rest.partition("?")
    master = target or "local[2]"
    if not master.startswith("local"):
        master = f"spark://{master}" if scheme.lower() == "spark" else master
    params = {k: v[-1] for k, v in parse_qs(query).items()}
    settings = {k: v for k, v in params.items() if k.startswith("spark.")}
    folder = params.get("warehouse")
    if folder is None:
        return master, (root / "data" / "spark" if root is not None else None), settings
    path = Path(folder)
    return master, path if path.is_absolute() or root is None else root / path, settings


def spark_session(master: str = "local[2]", settings: Mapping[str, str] | None = None
                  ) -> SparkSession:
    """The process's Spark session, started on first use (the JVM starts once per process).

    `settings` (a URL's `spark.…` parameters) are given to the session when it starts, so
    that settings only a start can take (`spark.driver.memory`) take effect. Its scratch
    warehouse (derived tables) and Derby home are a temporary folder removed at exit. A
    session already started elsewhere in the process is reused as it is.
    """
    global _spark
    if _spark is not None and not _spark.sparkContext._jsc.sc().isStopped():
        return _spark
    from pyspark.sql import SparkSession

    scratch = Path(tempfile.mkdtemp(prefix="quarterdeck-spark-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    builder = SparkSession.builder.master(master)
    conf: dict[str, Any] = {
        **SPARK_CONF,
        "spark.sql.warehouse.dir": str(scratch / "warehouse"),
        "spark.local.dir": str(scratch / "local"),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={scratch / 'derby'} "
                                         "-Duser.timezone=UTC",
        **(settings or {}),
    }
    for key, value in conf.items():
        builder = builder.config(key, value)
    _spark = builder.getOrCreate()
    _spark.sparkContext.setLogLevel("ERROR")
    return _spark


def stop_spark() -> None:
    """Stop the process's Spark session (connections' `disconnect` leave it running)."""
    global _spark
    if _spark is not None:
        _spark.stop()
        _spark = None


def _connect_spark(url: str, root: Path | None) -> BaseBackend:
    from ibis.backends.pyspark import Backend

    from quarterdeck.warehouse.mirror import attach_spark_tables

    Backend.register_options()  # what `ibis.pyspark` does on first use

    class SparkBackend(Backend):
        """Ibis's PySpark backend whose `disconnect` keeps the shared session running."""

        def disconnect(self) -> None:
            """Forget this connection; the process's session runs on (see `stop_spark`)."""

    master, folder, settings = spark_location(url, root)
    root_session = spark_session(master, settings)
    # A session of its own per connection: its own temporary views and settings, one JVM.
    session = root_session.newSession()
    for key, value in {**{k: SPARK_CONF[k] for k in _SESSION_CONF}, **settings}.items():
        if session.conf.isModifiable(key):  # the others were given when the JVM started
            session.conf.set(key, value)
    con = SparkBackend().connect(session)
    if folder is not None:
        attach_spark_tables(session, folder)
    return con


def open_warehouse(ws: Workspace, *, read_only: bool = False) -> BaseBackend:
    """The workspace's warehouse, with its memory and thread settings; a DuckDB one reads the
    workspace's own landing area wherever the workspace was moved (`follow_landing`). A
    reader of an embedded warehouse never loaded is told to load first."""
    from quarterdeck.errors import QuarterdeckError
    from quarterdeck.landing.landing_views import follow_landing

    path = duckdb_path(ws.warehouse_url) if ws.warehouse_url.startswith("duckdb://") else None
    if read_only and path not in (None, ":memory:") and not Path(path).exists():
        raise QuarterdeckError(f"no warehouse yet at {path}: load data first "
                               "(`quarterdeck load`)")
    con = connect(ws.warehouse_url, memory_limit=ws.settings.warehouse.memory_limit,
                  threads=ws.settings.warehouse.threads, read_only=read_only, root=ws.root)
    if is_duckdb(con):
        follow_landing(con.con, ws.landing_dir, read_only=read_only)
    return con
