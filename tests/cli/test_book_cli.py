"""The book through the CLI on a demo company: run two days, then work it — alerts, tasks,
playbooks, operations metrics and the exports that re-compute every figure."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quarterdeck.cli.main import app

runner = CliRunner()


def qd(*args: object, code: int = 0) -> str:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def rows(ws: Path, table: str, day: date) -> list[dict[str, str]]:
    out = ws / "exports" / f"{table}.csv"
    qd("export", table, "--as-of", day, "--out", out, "--workspace", ws)
    return list(csv.DictReader(io.StringIO(out.read_text())))


# One worker builds the company for the whole module (the suite runs with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("book_company")


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> tuple[Path, date]:
    out = tmp_path_factory.mktemp("company")
    qd("demo", "--out", out, "--accounts", 80, "--years", 2, "--seed", 5)
    today = date.fromisoformat(json.loads((out / "demo.json").read_text())["today"])
    ws = tmp_path_factory.mktemp("book") / "ws"
    qd("init", ws)
    qd("load", out / "data", "--workspace", ws)
    first = qd("run", "--as-of", today - timedelta(days=7), "--workspace", ws)
    assert "alerts opened" in first and "playbooks started" in first  # the run says so
    qd("run", "--as-of", today, "--workspace", ws)
    return ws, today


def test_a_run_publishes_stages_alerts_and_tasks(book) -> None:
    ws, today = book
    stages = rows(ws, "lifecycle_stages", today)
    assert {r["stage"] for r in stages} >= {"churned", "prospect", "mature", "renewal"}
    assert all(r["stage_rule"] for r in stages)
    assert any(r["entered_on"] < str(today) for r in stages)  # kept from the earlier run
    alerts = rows(ws, "alerts", today)
    assert len({r["signal"] for r in alerts}) >= 4
    assert all(json.loads(r["evidence"]) for r in alerts)
    tasks = rows(ws, "tasks", today)
    assert {"open", "done", "skipped"} <= {r["status"] for r in tasks}
    assert len(rows(ws, "lifecycle_history", today)) >= len(stages)


def test_running_a_day_again_changes_nothing(book) -> None:
    ws, today = book
    before = {t: rows(ws, t, today) for t in ("alerts", "playbook_runs", "lifecycle_stages")}
    qd("run", "--as-of", today, "--workspace", ws)
    after = {t: rows(ws, t, today) for t in before}
    for table in before:
        assert len(after[table]) == len(before[table]), table
    assert after["alerts"] == before["alerts"]


def test_a_csm_acknowledges_an_alert_and_closes_a_task(book) -> None:
    ws, today = book
    alert = next(r for r in rows(ws, "alerts", today) if r["state"] == "open")
    out = qd("alert", "ack", alert["id"], "--note", "called them", "--as", "ana@example.com",
             "--as-of", today, "--workspace", ws)
    assert "open → acknowledged" in out
    qd("alert", "ack", alert["id"], "--as-of", today, "--workspace", ws, code=1)
    again = next(r for r in rows(ws, "alerts", today) if r["id"] == alert["id"])
    assert (again["state"], again["state_changed_by"]) == ("acknowledged", "ana@example.com")
    task = next(r for r in rows(ws, "tasks", today) if r["status"] in ("open", "overdue"))
    out = qd("task", "close", task["id"], "--outcome", "kickoff held", "--as-of", today,
             "--workspace", ws)
    assert "open → done" in out
    closed = next(r for r in rows(ws, "tasks", today) if r["id"] == task["id"])
    assert (closed["status"], closed["outcome_note"]) == ("done", "kickoff held")
    assert "due" in qd("task", "list", "--as-of", today, "--workspace", ws)


def test_a_playbook_started_by_hand_starts_once(book) -> None:
    ws, today = book
    account = next(r["account_id"] for r in rows(ws, "lifecycle_stages", today)
                   if r["status"] == "active")
    out = qd("playbook", "start", "risk_recovery", account, "--anchor", today, "--as-of",
             today, "--workspace", ws)
    assert f"started risk_recovery for {account}" in out
    qd("playbook", "start", "risk_recovery", account, "--anchor", today, "--as-of", today,
       "--workspace", ws, code=1)
    qd("playbook", "start", "no_such", account, "--as-of", today, "--workspace", ws, code=1)
    assert "risk_recovery" in qd("playbook", "list", "--workspace", ws)


def test_ops_prints_each_grouping_and_equals_the_exports(book) -> None:
    ws, today = book
    for by in ("csm", "team", "segment"):
        assert "total" in qd("ops", "--by", by, "--as-of", today, "--workspace", ws)
    qd("ops", "--by", "planet", "--as-of", today, "--workspace", ws, code=1)
    from quarterdeck.appdb.database import make_engine
    from quarterdeck.appdb.ops_metrics import ops_metrics
    from quarterdeck.workspace.workspace import open_workspace

    engine = make_engine(open_workspace(ws).app_database_url)
    total = ops_metrics(engine, as_of=today, by="segment").to_pylist()[-1]
    engine.dispose()
    tasks = rows(ws, "tasks", today)
    assert total["overdue_tasks"] == sum(r["status"] == "overdue" for r in tasks)
    stages = rows(ws, "lifecycle_stages", today)
    assert total["accounts"] == sum(r["status"] == "active" for r in stages)


def test_the_operations_metrics_export_as_a_table_by_each_grouping(book) -> None:
    ws, today = book
    by_csm = rows(ws, "ops_metrics", today)
    assert by_csm[-1]["group"] == "total" and len(by_csm) > 2
    out = ws / "exports" / "ops_by_segment.csv"
    qd("export", "ops_metrics", "--by", "segment", "--as-of", today, "--out", out,
       "--workspace", ws)
    by_segment = list(csv.DictReader(io.StringIO(out.read_text())))
    assert by_segment[-1]["group"] == "total"
    assert by_segment[-1]["overdue_tasks"] == by_csm[-1]["overdue_tasks"]
    segments = {r["segment"] for r in rows(ws, "lifecycle_stages", today)}
    assert {r["group"] for r in by_segment[:-1]} <= segments | {"unknown"}
