"""`quarterdeck quality` end to end: a workspace, small CSV files, the report and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from quarterdeck.cli.main import app

runner = CliRunner()
TEAM = "email,name,role\nana@example.com,Ana Ruiz,csm\n"
ACCOUNTS = ("account_id,name,domain,segment,industry,region,country,owner_email,created_at\n"
            "acme,Acme,acme.com,SMB,Software,EU,DE,ana@example.com,2024-01-01\n"
            "globex,Globex,globex.com,SMB,Software,US,US,,2024-01-01\n")


def qd(*args: object) -> tuple[int, str]:
    # wide enough that the report's table never wraps a finding
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False,
                           env={"COLUMNS": "250"})
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the team, two accounts (Globex has no owner) and two tickets, the
    newest created 2024-06-20 14:00; the tests only read it."""
    tmp_path = tmp_path_factory.mktemp("cli")
    root = tmp_path / "ws"
    assert qd("init", root)[0] == 0
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "team.csv").write_text(TEAM)
    (inbox / "accounts.csv").write_text(ACCOUNTS)
    (inbox / "tickets.csv").write_text(
        "ticket_id,account_id,created_at,priority,status\n"
        "t1,acme,2024-06-01T10:00:00,normal,solved\n"
        "t2,globex,2024-06-20T14:00:00,high,open\n")
    code, output = qd("load", inbox, "--workspace", root)
    assert code == 0, output
    return root


def test_stale_tickets_fail_the_run_with_fail_on_error(workspace: Path, tmp_path: Path):
    page = tmp_path / "quality.html"
    code, output = qd("quality", "--as-of", "2024-06-30", "--fail-on", "error", "--html", page,
                      "--workspace", workspace)
    assert code == 1, output
    assert "1 error, 2 warnings" in output  # Globex: no owner (completeness and rule)
    assert "9 days old (expected every 1d)" in output
    html = page.read_text()
    assert html.startswith("<!doctype html>") and "Data quality as of 2024-06-30" in html
    assert "tickets from files are 9 days old (expected every 1d)" in html
    assert "account_has_owner" in html  # Globex has no owner


def test_without_fail_on_the_report_exits_zero(workspace: Path):
    code, output = qd("quality", "--as-of", "2024-06-30", "--workspace", workspace)
    assert code == 0, output
    assert "checks ok (--all lists them)" in output


def test_fail_on_counts_only_the_level_asked_for(workspace: Path):
    # as of 2024-06-21 the tickets are fresh: only Globex's missing owner is left, warnings
    code, output = qd("quality", "--as-of", "2024-06-21", "--fail-on", "error",
                      "--workspace", workspace)
    assert code == 0, output
    assert "0 errors, 2 warnings" in output
    code, _ = qd("quality", "--as-of", "2024-06-21", "--fail-on", "warning",
                 "--workspace", workspace)
    assert code == 1


def test_all_lists_the_passing_checks(workspace: Path):
    code, output = qd("quality", "--as-of", "2024-06-21", "--all", "--workspace", workspace)
    assert code == 0
    assert "completeness: required" in output and "(--all lists them)" not in output


def test_a_broken_quality_file_is_a_readable_error(tmp_path: Path):
    qd("init", tmp_path / "ws")
    (tmp_path / "ws" / "definitions" / "quality.yml").write_text("rules:\n  - kind: maybe\n")
    code, output = qd("quality", "--workspace", tmp_path / "ws")
    assert code == 1
    assert "quality.yml:2: field 'rules.0.kind'" in output


def test_a_workspace_with_nothing_loaded_says_so(tmp_path: Path):
    qd("init", tmp_path / "empty")
    code, output = qd("quality", "--workspace", tmp_path / "empty")
    assert code == 1
    assert "no warehouse yet" in output and "quarterdeck load" in output


def test_the_report_exports_as_a_table(workspace: Path, tmp_path: Path):
    import csv

    out = tmp_path / "quality.csv"
    code, output = qd("export", "data_quality", "--as-of", "2024-06-30", "--out", out,
                      "--workspace", workspace)
    assert code == 0, output
    rows = list(csv.DictReader(out.open()))
    stale = [r for r in rows if r["check"] == "freshness" and r["entity"] == "tickets"]
    assert [(r["source"], r["status"]) for r in stale] == [("files", "error")]
    assert stale[0]["newest_at"].startswith("2024-06-20 14:00")
    owner = [r for r in rows if r["entity"] == "accounts" and r["field"] == "owner_email"
             and r["check"] == "completeness"]
    assert [(r["passed"], r["failed"]) for r in owner] == [("1", "1")]
