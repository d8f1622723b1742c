"""Loading files into a workspace whose warehouse is PostgreSQL or Spark: the files are staged
in DuckDB and the canonical tables mirrored, equal row for row and typed as the contract says.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.csv as pcsv
import pytest
from backend_worlds import SPARK_TEST_CONF, comparable_type, sorted_rows

from quarterdeck.contract.entities import ENTITIES
from quarterdeck.ingest import load_into_workspace
from quarterdeck.landing.manifest import TABLE as MANIFEST
from quarterdeck.pipeline import run_pipeline
from quarterdeck.testing import worlds
from quarterdeck.testing.postgres import POSTGRES_URL_VARIABLE, throwaway_database
from quarterdeck.warehouse.account_daily import account_daily
from quarterdeck.warehouse.canonical import canonical_tables
from quarterdeck.warehouse.connection import connect, spark_location
from quarterdeck.warehouse.mirror import staging_url
from quarterdeck.warehouse.schema import canonical_schema
from quarterdeck.workspace.workspace import ENV_WAREHOUSE_URL, Workspace

JUNE_30 = date(2024, 6, 30)
WORLD = worlds.merge(worlds.monthly_plan(), worlds.euro_rate_change(), worlds.trial_then_paid(),
                     worlds.usage_through_users(), worlds.open_tickets())
TARGETS = [pytest.param("postgres", marks=pytest.mark.postgres),
           pytest.param("pyspark", marks=pytest.mark.spark)]


def write_world(folder: Path, world: dict[str, Any]) -> Path:
    """One CSV file per entity of `world`, named after it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in world.items():
        pcsv.write_csv(table, folder / f"{name}.csv")
    return folder


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest, workspace: Workspace,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The warehouse URL of `workspace`: a throwaway PostgreSQL database, or Spark."""
    if request.param == "pyspark":
        request.getfixturevalue("spark")
        settings = "".join(f"&{k}={v}" for k, v in SPARK_TEST_CONF.items())
        url = f"pyspark://local[2]?warehouse={workspace.data_dir / 'spark'}{settings}"
        monkeypatch.setenv(ENV_WAREHOUSE_URL, url)
        yield url
        return
    server = os.environ.get(POSTGRES_URL_VARIABLE)
    if not server:
        pytest.skip(f"PostgreSQL run needs {POSTGRES_URL_VARIABLE} set to a server URL")
    with throwaway_database(server) as url:
        monkeypatch.setenv(ENV_WAREHOUSE_URL, url)
        yield url


def tables_rows(url: str, names: list[str]) -> dict[str, list[dict[str, Any]]]:
    con = connect(url)
    try:
        tables = canonical_tables(con)
        return {n: sorted_rows(con.to_pyarrow(tables[n] if n in tables else con.table(n)))
                for n in names}
    finally:
        con.disconnect()


def assert_mirrored(ws: Workspace, url: str) -> None:
    """Every canonical table (and the manifest) on `url` equals the staged one, typed alike."""
    names = [*ENTITIES, MANIFEST]
    assert tables_rows(url, names) == tables_rows(staging_url(ws.data_dir), names)
    con = connect(url)
    try:
        for name, table in canonical_tables(con).items():
            wanted = {c: comparable_type(t) for c, t in canonical_schema(name).items()}
            actual = {c: comparable_type(t) for c, t in table.schema().items()}
            assert {c: actual.get(c) for c in wanted} == wanted, name
    finally:
        con.disconnect()


def table_ids(url: str) -> dict[str, Any]:
    """Each table's identity on the target: its PostgreSQL oid, or its Spark Parquet file."""
    if url.startswith("pyspark"):
        import json

        _, folder, _ = spark_location(url)
        return json.loads((folder / "catalog.json").read_text())["tables"]
    import psycopg

    from quarterdeck.warehouse.connection import postgres_url

    with psycopg.connect(postgres_url(url)) as pg:
        rows = pg.execute("SELECT relname, oid FROM pg_class WHERE relkind = 'r'").fetchall()
    return dict(rows)


def test_loaded_files_are_mirrored_with_the_canonical_types(workspace: Workspace,
                                                             target: str) -> None:
    report = load_into_workspace(workspace, [write_world(workspace.root / "in", WORLD)])
    assert report.ok, report
    assert (workspace.data_dir / "staging.duckdb").exists()
    assert not (workspace.data_dir / "warehouse.duckdb").exists()
    assert_mirrored(workspace, target)


def test_a_changed_file_replaces_only_its_table(workspace: Workspace, target: str) -> None:
    inbox = write_world(workspace.root / "in", WORLD)
    load_into_workspace(workspace, [inbox])
    before = table_ids(target)
    load_into_workspace(workspace, [inbox])  # the same bytes: nothing to mirror
    assert table_ids(target) == before
    accounts = worlds.merge(WORLD, worlds.world(accounts=[
        {"account_id": "late", "name": "Late Co", "created_at": "2024-05-01T00:00:00"}]))
    changed = write_world(workspace.root / "in2", {"accounts": accounts["accounts"]})
    assert load_into_workspace(workspace, [changed]).ok
    after = table_ids(target)
    assert after["accounts"] != before["accounts"]
    assert after["subscriptions"] == before["subscriptions"]
    assert_mirrored(workspace, target)
    rows = tables_rows(target, ["accounts"])["accounts"]
    assert "late" in {r["account_id"] for r in rows}


@pytest.mark.parametrize("target", [
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("pyspark", marks=[pytest.mark.spark]),
], indirect=True)
def test_the_pipeline_runs_on_the_mirrored_warehouse(workspace: Workspace, target: str) -> None:
    load_into_workspace(workspace, [write_world(workspace.root / "in", WORLD)])
    result = run_pipeline(workspace, JUNE_30)
    assert result.accounts == len(WORLD["accounts"])
    con = connect(staging_url(workspace.data_dir))
    try:
        expected = sorted_rows(con.to_pyarrow(account_daily(
            canonical_tables(con), as_of=JUNE_30, base_currency="USD")))
    finally:
        con.disconnect()
    assert tables_rows(target, ["account_daily"])["account_daily"] == expected
