"""What each warehouse backend can and cannot do, and which backend a URL or connection is.

Quarterdeck's analytics are Ibis expressions and run unchanged on every backend below. What
differs is around them: how files get in, where derived tables live, how exports stream.
The table here is the one source for code that must choose (`ingest` mirrors canonical tables
where files cannot be loaded directly) and for `docs/backends.md` (a test keeps them in step).

Example: capabilities("postgresql://db/prod").supports("load_files") → False.
"""

from __future__ import annotations

from dataclasses import dataclass

from ibis.backends import BaseBackend

from quarterdeck.errors import NotSupportedError

#: Every feature a backend may have, with what it means.
FEATURES: dict[str, str] = {
    "load_files": "Files are validated and loaded straight into the warehouse",
    "mirror": "Canonical tables are mirrored in after each load (DuckDB stages the files)",
    "events_in_place": "`events` is read in place from the landed Parquet versions",
    "derived_tables_persist": "Tables the pipeline derives (`account_daily`) outlive the run",
    "memory_limit": "`warehouse.memory_limit` bounds memory; big aggregations spill to disk",
    "export_copy": "`quarterdeck export` streams with the warehouse's own COPY",
    "shared_results": "Metrics asked together hold their shared inputs (priced subscription "
                      "rows, change days), and a run's stages the day's usage facts (a few "
                      "hundred thousand rows each), in memory, outside the memory limit, "
                      "instead of recomputing them in each query",
    "staged_plans": "A stage's deep intermediate results (the health features, their scores) "
                    "are cached in the session, so the planner plans them once, not once per "
                    "query that reads them",
    "number_format": "Reasons spell their numbers with the engine's own `format` (a "
                     "smaller query than the portable spelling every engine runs)",
}


@dataclass(frozen=True)
class Capabilities:
    """One backend: its Ibis name, URL forms, the features it has and notes on the rest."""

    name: str
    title: str
    urls: tuple[str, ...]
    features: frozenset[str]
    notes: str

    def supports(self, feature: str) -> bool:
        if feature not in FEATURES:
            raise KeyError(f"unknown backend feature {feature!r}")
        return feature in self.features


BACKENDS: dict[str, Capabilities] = {c.name: c for c in (
    Capabilities(
        "duckdb", "DuckDB (embedded, default)", ("duckdb:///abs/path.duckdb", "duckdb://"),
        frozenset(FEATURES) - {"mirror", "staged_plans"},
        "The workspace's own file; loading, landing and exports all run here."),
    Capabilities(
        "postgres", "PostgreSQL",
        ("postgresql://user@host:5432/db", "postgres://…", "postgresql+psycopg://…"),
        frozenset({"mirror", "derived_tables_persist"}),
        "Each changed canonical table is rebuilt as `<name>__new` by COPY and swapped in "
        "one transaction with the load manifest `_quarterdeck_loads`."),
    Capabilities(
        "pyspark", "Spark (PySpark)",
        ("pyspark://local[2]", "spark://local[4]?warehouse=/abs/dir", "spark://host:7077"),
        frozenset({"mirror", "staged_plans"}),
        "Canonical tables are Parquet files under the Spark folder (`data/spark` by "
        "default), registered as views on connect; derived tables live in a temporary "
        "session warehouse."),
)}

_SCHEMES = {"duckdb": "duckdb", "postgres": "postgres", "postgresql": "postgres",
            "postgresql+psycopg": "postgres", "postgresql+psycopg2": "postgres",
            "pyspark": "pyspark", "spark": "pyspark"}


def backend_of_url(url: str) -> str:
    """The backend name of a warehouse URL. Example: "spark://local[2]" → "pyspark"."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in _SCHEMES:
        raise NotSupportedError(
            f"unknown warehouse URL scheme {scheme or url!r}; use one of "
            + ", ".join(sorted({f"{s}://" for s in _SCHEMES})))
    return _SCHEMES[scheme]


def backend_name(con: BaseBackend) -> str:
    """The backend name of an open Ibis connection (`duckdb`, `postgres`, `pyspark`, …)."""
    return con.name


def capabilities(target: BaseBackend | str) -> Capabilities:
    """The capabilities of a connection or URL."""
    name = backend_of_url(target) if isinstance(target, str) else backend_name(target)
    if name not in BACKENDS:
        raise NotSupportedError(f"the {name} backend is not one Quarterdeck supports yet")
    return BACKENDS[name]


def capability_table() -> str:
    """The capability table as Markdown (embedded in docs/backends.md)."""
    names = list(BACKENDS)
    lines = ["| feature | " + " | ".join(BACKENDS[n].title for n in names) + " |",
             "|---|" + "---|" * len(names)]
    for feature, meaning in FEATURES.items():
        marks = ["yes" if feature in BACKENDS[n].features else "no" for n in names]
        lines.append(f"| {meaning} | " + " | ".join(marks) + " |")
    return "\n".join(lines)
