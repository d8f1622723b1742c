"""With a PostgreSQL or Spark warehouse, resolution runs on the DuckDB staging file and its
tables are mirrored with the canonical ones: the warehouse sees the same customers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pyarrow.csv as pcsv
import pytest

from quarterdeck.identity.overrides import record_override
from quarterdeck.identity.tables import RESOLUTION_TABLES
from quarterdeck.ingest import load_into_workspace, resolve_workspace_identities
from quarterdeck.testing.identity_world import IDENTITY_YML, identity_world
from quarterdeck.testing.postgres import POSTGRES_URL_VARIABLE, throwaway_database
from quarterdeck.warehouse.canonical import canonical_tables
from quarterdeck.warehouse.connection import connect, stop_spark
from quarterdeck.warehouse.mirror import staging_url
from quarterdeck.workspace.workspace import ENV_WAREHOUSE_URL, Workspace, open_workspace

pytestmark = pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
SOURCES_YML = "sources:\n  crm: {kind: hubspot}\n  stripe: {kind: stripe}\n" \
              "  zendesk: {kind: zendesk}\n"


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres),
                        pytest.param("pyspark", marks=pytest.mark.spark)])
def target(request: pytest.FixtureRequest, workspace: Workspace,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "pyspark":
        url = (f"pyspark://local[2]?warehouse={workspace.data_dir / 'spark'}"
               "&spark.sql.adaptive.enabled=false")
        monkeypatch.setenv(ENV_WAREHOUSE_URL, url)
        yield url
        stop_spark()
        return
    server = os.environ.get(POSTGRES_URL_VARIABLE)
    if not server:
        pytest.skip(f"PostgreSQL run needs {POSTGRES_URL_VARIABLE} set to a server URL")
    with throwaway_database(server) as url:
        monkeypatch.setenv(ENV_WAREHOUSE_URL, url)
        yield url


def rows(url: str, root: Path) -> dict[str, list[dict]]:
    con = connect(url, root=root)
    try:
        tables = canonical_tables(con)
        out = {n: con.to_pyarrow(con.table(n)).to_pylist() for n in RESOLUTION_TABLES[:2]}
        for entity, key in (("accounts", "account_id"), ("tickets", "ticket_id")):
            out[entity] = sorted(con.to_pyarrow(tables[entity]).to_pylist(),
                                 key=lambda r, k=key: r[k])
        return {n: sorted(v, key=repr) for n, v in out.items()}
    finally:
        con.disconnect()


def test_the_warehouse_sees_the_staged_resolution(workspace: Workspace, target: str):
    (workspace.definitions_dir / "sources.yml").write_text(SOURCES_YML)
    (workspace.definitions_dir / "identity.yml").write_text(IDENTITY_YML)
    ws = open_workspace(workspace.root)
    inbox = workspace.root / "in"
    inbox.mkdir()
    for name, table in identity_world().items():
        pcsv.write_csv(table, inbox / f"{name}.csv")
    assert load_into_workspace(ws, [inbox]).ok
    assert rows(target, ws.root) == rows(staging_url(ws.data_dir), ws.root)
    tickets = {r["ticket_id"]: r["account_id"] for r in rows(target, ws.root)["tickets"]}
    assert tickets == {"t1": "acme", "t2": "acme", "t3": "crm:77"}
    # An override re-resolves on staging and mirrors only the resolution tables.
    record_override(ws.definitions_dir, "split", "acme", "zendesk:9")
    resolve_workspace_identities(ws)
    tickets = {r["ticket_id"]: r["account_id"] for r in rows(target, ws.root)["tickets"]}
    assert tickets["t1"] == "zendesk:9"
    assert rows(target, ws.root) == rows(staging_url(ws.data_dir), ws.root)
