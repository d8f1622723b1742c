"""`quarterdeck sync` and `quarterdeck source list` on a warehouse-table source."""

from __future__ import annotations

import duckdb
from typer.testing import CliRunner

from quarterdeck.cli.main import app

runner = CliRunner()


def qd(*args: object, code: int = 0) -> str:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False,
                           env={"COLUMNS": "200"})
    assert result.exit_code == code, result.output
    return result.output


def test_sync_loads_a_configured_source_and_source_list_shows_it(tmp_path):
    ws = tmp_path / "ws"
    qd("init", ws)
    team = tmp_path / "team.duckdb"
    con = duckdb.connect(str(team))
    con.execute("CREATE TABLE companies AS SELECT * FROM (VALUES ('1', 'Acme Inc.', "
                "TIMESTAMP '2026-01-01 10:00:00'), ('2', 'Globex', "
                "TIMESTAMP '2026-01-02 10:00:00')) t(id, company, updated_at)")
    con.close()
    (ws / "definitions" / "sources.yml").write_text(
        "sources:\n  crm:\n    kind: warehouse_table\n    expected_every: 6h\n"
        f"    url: duckdb:///{team}\n    tables:\n      - entity: accounts\n"
        "        table: companies\n        columns: {account_id: id, name: company}\n"
        "        cursor: updated_at\n")
    listed = qd("source", "list", "--workspace", ws)
    assert "crm" in listed and "never synced" in listed
    out = qd("sync", "--workspace", ws)
    assert "crm: 2 records read, 2 rows loaded" in out
    listed = qd("source", "list", "--workspace", ws)
    assert "accounts 2" in listed and "fresh" in listed and "ok" in listed
    err = qd("sync", "nope", "--workspace", ws, code=1)
    assert "no source named 'nope'" in err


def test_sync_without_sources_says_how_to_add_them(tmp_path):
    ws = tmp_path / "ws"
    qd("init", ws)
    assert "No sources configured" in qd("sync", "--workspace", ws)
