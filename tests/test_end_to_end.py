"""The whole job through the CLI: demo company → load → run → export, and point in time."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quarterdeck.cli.main import app
from quarterdeck.testing.point_in_time import write_as_it_stood
from tests.cli_runner import qd

runner = CliRunner()


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> tuple[Path, date]:
    out = tmp_path_factory.mktemp("company")
    qd("demo", "--out", out, "--accounts", 80, "--years", 2, "--seed", 3)
    today = date.fromisoformat(json.loads((out / "demo.json").read_text())["today"])
    return out, today


def _workspace(root: Path, data: Path) -> Path:
    qd("init", root)
    qd("load", data, "--workspace", root)
    return root


def test_demo_loads_runs_publishes_and_exports(company, tmp_path):
    out, today = company
    ws = _workspace(tmp_path / "ws", out / "data")
    ran = qd("run", "--as-of", today, "--workspace", ws)
    assert "Published" in ran and "recent usage: kept afresh (120 days)" in ran
    snapshot = tmp_path / "snapshots.csv"
    qd("export", "account_snapshots", "--as-of", today, "--out", snapshot, "--workspace", ws)
    import csv

    rows = list(csv.DictReader(snapshot.open()))
    assert len(rows) > 50
    assert any(r["owner_name"] for r in rows)  # the CSM's name comes from the team file
    assert {r["status"] for r in rows} >= {"active", "churned"}
    again = qd("load", out / "data", "--workspace", ws)
    files = len(list((out / "data").glob("*.parquet")))
    assert again.count("unchanged") == files, again
    _account_list_counts_the_customers_metrics_counts(ws, today)
    _exports_of_a_day_are_the_same_file(ws, today)


def _exports_of_a_day_are_the_same_file(ws: Path, today: date) -> None:
    """Tables the engine aggregates in parallel come out sorted: exported twice, the same
    text, in order of their first columns."""
    for table in ("health_scores", "account_daily", "mrr_movements"):
        first, second = (ws / f"{table}-1.csv", ws / f"{table}-2.csv")
        for out in (first, second):
            qd("export", table, "--as-of", today, "--out", out, "--workspace", ws)
        assert first.read_text() == second.read_text(), table
        rows = first.read_text().strip().splitlines()[1:]
        assert len(rows) > 10
        assert rows == sorted(rows, key=lambda line: line.split(",")[:2]), table


def _account_list_counts_the_customers_metrics_counts(ws: Path, today: date) -> None:
    """The web app's account list defaults to paying customers: as many as `metrics` says."""
    import re

    from fastapi.testclient import TestClient

    from quarterdeck.app import create_app
    from quarterdeck.appdb import add_user
    from quarterdeck.testing.web_client import post_login

    printed = qd("metrics", "--as-of", today, "--workspace", ws)
    customers = int(re.search(r"│ all\s+│\s+([\d,]+) │", printed).group(1).replace(",", ""))
    app = create_app(f"sqlite:///{ws / 'data' / 'app.db'}", secret_key="e2e")
    try:
        add_user(app.state.engine, "e2e@example.com", "E2E", "viewer", "a long enough password")
        client = TestClient(app)
        post_login(client, "e2e@example.com", "a long enough password")
        assert client.get("/api/accounts").json()["total"] == customers
        page = client.get("/accounts").text
        assert f"Paying customers <strong>{customers:,}</strong>" in page
        first = client.get("/api/accounts", params={"per_page": 1}).json()["accounts"][0]
        detail = client.get(f"/api/account_detail/{first['account_id']}").json()
        assert detail["subscriptions"] and detail["timeline"]  # published with the run
    finally:
        app.state.engine.dispose()


def test_running_as_of_a_past_day_equals_running_on_the_data_as_it_stood(company, tmp_path):
    out, today = company
    as_of = today - timedelta(days=150)
    full = _workspace(tmp_path / "full", out / "data")
    past = _workspace(tmp_path / "past", write_as_it_stood(out / "data", tmp_path / "past-data",
                                                            as_of)[0].parent)
    for table in ("subscription_mrr", "account_daily", "account_snapshot"):
        a, b = tmp_path / f"full-{table}.csv", tmp_path / f"past-{table}.csv"
        qd("export", table, "--as-of", as_of, "--out", a, "--workspace", full)
        qd("export", table, "--as-of", as_of, "--out", b, "--workspace", past)
        rows_a, rows_b = sorted(a.read_text().splitlines()), sorted(b.read_text().splitlines())
        assert len(rows_a) > 1, f"{table} is empty as of {as_of}"
        assert rows_a == rows_b, f"{table} as of {as_of} differs between full and cut-back data"


def test_a_bad_file_exits_non_zero_and_names_row_and_field(tmp_path):
    qd("init", tmp_path / "ws")
    bad = tmp_path / "accounts.csv"
    bad.write_text("account_id,name\na1,Acme\na1,Again\n")
    result = runner.invoke(app, ["load", str(bad), "--workspace", str(tmp_path / "ws")])
    assert result.exit_code == 1
    assert "line 3 (row 2 of data), field 'account_id': duplicate id" in result.output


def _money(value: str) -> Decimal:
    return Decimal(value or "0")


def test_exported_bridge_chains_and_balances_to_the_cent(company, tmp_path):
    """Through the CLI on the demo company: every month of the ARR bridge balances, months
    chain, and the last month ends on the MRR and customers of account_mrr_daily."""
    import csv

    out, today = company
    ws = _workspace(tmp_path / "ws", out / "data")
    bridge, daily = tmp_path / "bridge.csv", tmp_path / "daily.csv"
    qd("export", "mrr_bridge", "--as-of", today, "--out", bridge, "--workspace", ws)
    qd("export", "account_mrr_daily", "--as-of", today, "--out", daily, "--workspace", ws)
    rows = list(csv.DictReader(bridge.open()))
    assert len(rows) >= 12
    moves = ("new", "expansion", "contraction", "churn", "reactivation", "fx_adjustment")
    for row in rows:
        assert _money(row["starting_mrr"]) + sum(_money(row[m]) for m in moves) == _money(
            row["ending_mrr"]), row
        assert (int(row["starting_customers"]) + int(row["new_customers"])
                + int(row["reactivated_customers"]) - int(row["churned_customers"])
                == int(row["ending_customers"])), row
    for before, after in zip(rows, rows[1:], strict=False):
        assert before["ending_mrr"] == after["starting_mrr"]
        assert before["ending_customers"] == after["starting_customers"]
    last_day = [r for r in csv.DictReader(daily.open()) if r["date"] == today.isoformat()]
    assert _money(rows[-1]["ending_mrr"]) == sum(_money(r["mrr"]) for r in last_day)
    assert int(rows[-1]["ending_customers"]) == sum(r["customer"] == "true" for r in last_day)


@pytest.mark.parametrize("command", [["metrics"], ["export", "mrr_movements"],
                                     ["export", "account_daily"]])
def test_a_missing_exchange_rate_stops_metrics_with_the_currency_and_date(tmp_path, command):
    ws = tmp_path / "ws"
    qd("init", ws)
    (tmp_path / "accounts.csv").write_text("account_id,name\na1,Acme\n")
    (tmp_path / "subscriptions.csv").write_text(
        "subscription_id,account_id,plan,quantity,unit_price,currency,interval_months,"
        "start_date\ns1,a1,Pro,1,100,EUR,1,2024-03-01\n")
    qd("load", tmp_path / "accounts.csv", tmp_path / "subscriptions.csv", "--workspace", ws)
    result = runner.invoke(app, [*command, "--as-of", "2024-06-30", "--workspace", str(ws)])
    assert result.exit_code == 1
    assert "EUR" in result.output and "2024-03-01" in result.output
