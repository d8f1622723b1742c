"""A warehouse-table source: tables a data team keeps, mapped onto the contract and synced."""

from __future__ import annotations

import os

import duckdb
import pytest
import sqlalchemy as sa

from quarterdeck.errors import QuarterdeckError
from quarterdeck.sources.sync import sync_source
from quarterdeck.testing.postgres import POSTGRES_URL_VARIABLE, throwaway_database
from quarterdeck.warehouse.connection import connect
from quarterdeck.workspace.workspace import open_workspace

COMPANIES = """
CREATE SCHEMA crm;
CREATE TABLE crm.companies (company_id INTEGER, company_name VARCHAR, website VARCHAR,
                            tier VARCHAR, updated_at TIMESTAMP);
INSERT INTO crm.companies VALUES
  (1, 'Acme Inc.', 'acme.com', 'Enterprise', '2026-01-01 10:00:00'),
  (2, 'Globex', 'globex.com', 'SMB', '2026-01-02 10:00:00'),
  (3, 'Initech', NULL, 'SMB', '2026-01-02 10:00:00');
CREATE TABLE crm.subs (id VARCHAR, company INTEGER, plan VARCHAR, seats INTEGER,
                       price DECIMAL(10,2), currency VARCHAR, months INTEGER, start DATE);
INSERT INTO crm.subs VALUES ('s1', 1, 'pro', 10, 50.00, 'USD', 1, '2026-01-01'),
                            ('s2', 2, 'team', 3, 20.00, 'EUR', 12, '2026-02-01');
"""

SOURCES = """
sources:
  crm:
    kind: warehouse_table
    url: {url}
    tables:
      - entity: accounts
        table: crm.companies
        columns: {{account_id: company_id, name: company_name, domain: website}}
        cursor: updated_at
        keep_other_columns: true
      - entity: subscriptions
        table: crm.subs
        columns: {{subscription_id: id, account_id: company, quantity: seats,
                   unit_price: price, interval_months: months, start_date: start}}
"""


def rows(ws, sql: str) -> list[tuple]:
    con = connect(ws.warehouse_url)
    try:
        return con.raw_sql(sql).fetchall()
    finally:
        con.disconnect()


def configure(workspace, url: str):
    (workspace.definitions_dir / "sources.yml").write_text(SOURCES.format(url=url))
    return open_workspace(workspace.root)


@pytest.fixture
def source_db(tmp_path):
    path = tmp_path / "team.duckdb"
    con = duckdb.connect(str(path))
    con.execute(COMPANIES)
    con.close()
    return path


def test_mapped_tables_load_as_contract_entities_with_prefixed_ids(workspace, source_db):
    ws = configure(workspace, f"duckdb:///{source_db}")
    result = sync_source(ws, "crm")
    assert result.rows_loaded == 5 and result.rows_rejected == 0
    assert rows(ws, "SELECT account_id, name, domain FROM accounts ORDER BY 1") == [
        ("crm:1", "Acme Inc.", "acme.com"), ("crm:2", "Globex", "globex.com"),
        ("crm:3", "Initech", None)]
    assert rows(ws, "SELECT subscription_id, account_id, quantity, interval_months "
                    "FROM subscriptions ORDER BY 1") == [("crm:s1", "crm:1", 10, 1),
                                                         ("crm:s2", "crm:2", 3, 12)]


def test_a_cursor_column_reads_only_rows_at_or_past_the_last_sync(workspace, source_db):
    ws = configure(workspace, f"duckdb:///{source_db}")
    sync_source(ws, "crm")
    con = duckdb.connect(str(source_db))
    con.execute("UPDATE crm.companies SET company_name = 'Globex Corp', "
                "updated_at = '2026-03-01 09:00:00' WHERE company_id = 2")
    con.close()
    result = sync_source(ws, "crm", objects=["crm.companies"])
    # The renamed row and Initech, whose updated_at equals the last value loaded
    # (2026-01-02 10:00): nothing older is read again.
    assert result.objects == {"crm.companies": 2}
    assert rows(ws, "SELECT name FROM accounts WHERE account_id = 'crm:2'") == [("Globex Corp",)]
    # Rows sharing the cursor's value are re-read, so one arriving later is never skipped.
    again = sync_source(ws, "crm", objects=["crm.companies"])
    assert again.objects == {"crm.companies": 1}  # the boundary row, re-read harmlessly
    assert len(rows(ws, "SELECT * FROM accounts")) == 3


def test_a_mapping_to_a_missing_column_is_named(workspace, source_db):
    (workspace.definitions_dir / "sources.yml").write_text(
        SOURCES.format(url=f"duckdb:///{source_db}").replace("website", "homepage"))
    ws = open_workspace(workspace.root)
    with pytest.raises(QuarterdeckError, match="names column 'homepage'"):
        sync_source(ws, "crm", objects=["crm.companies"])


def test_a_mapping_to_an_unknown_contract_column_is_refused_with_file_and_line(workspace):
    (workspace.definitions_dir / "sources.yml").write_text(
        SOURCES.format(url="duckdb:///x.duckdb").replace("domain: website", "homepage: x"))
    with pytest.raises(QuarterdeckError, match=r"sources.yml:\d+.*homepage not columns"):
        open_workspace(workspace.root)


@pytest.mark.postgres
def test_a_postgresql_schema_filled_by_a_data_team(workspace):
    server = os.environ.get(POSTGRES_URL_VARIABLE)
    if not server:
        pytest.skip(f"needs {POSTGRES_URL_VARIABLE}")
    with throwaway_database(server) as url:
        engine = sa.create_engine(url)
        with engine.begin() as c:
            for statement in COMPANIES.replace("VARCHAR", "TEXT").strip().split(";"):
                if statement.strip():
                    c.execute(sa.text(statement))
        engine.dispose()
        ws = configure(workspace, url.replace("postgresql+psycopg", "postgresql"))
        result = sync_source(ws, "crm")
        assert result.rows_loaded == 5
        assert rows(ws, "SELECT account_id, name FROM accounts ORDER BY 1")[0] == (
            "crm:1", "Acme Inc.")
