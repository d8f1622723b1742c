"""Reading a workspace before it holds anything (never loaded, or loaded but never run): a
clear error saying what to do first, not a database traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from quarterdeck.cli.main import app
from quarterdeck.workspace.workspace import Workspace
from tests.cli_runner import qd, write_csv


@pytest.mark.parametrize("table", ["account_snapshots", "pipeline_runs", "alerts", "ops_metrics"])
def test_a_published_table_before_any_run_says_to_run_first(workspace: Workspace,
                                                            table: str) -> None:
    write_csv(workspace.root / "in", "accounts", "account_id,name", ["a1,Alpha"])
    qd("load", workspace.root / "in", "--workspace", workspace.root)
    result = CliRunner().invoke(app, ["export", table, "--as-of", "2026-09-30",
                                      "--workspace", str(workspace.root)])
    assert "Traceback" not in result.output and "sqlite3" not in result.output, result.output
    if result.exit_code == 0:  # a table that is not dated: no rows
        assert len(result.output.strip().splitlines()) <= 1, result.output
    else:
        assert "quarterdeck run" in result.output, result.output


@pytest.mark.parametrize("command", [
    ["export", "accounts"], ["export", "health_scores", "--as-of", "2026-09-30"],
    ["metrics", "--as-of", "2026-09-30"], ["quality"],
    ["report", "weekly", "--as-of", "2026-09-30"]])
def test_reading_a_workspace_never_loaded_says_what_to_do_first(workspace: Workspace,
                                                               command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--workspace", str(workspace.root)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "quarterdeck load" in result.output or "quarterdeck run" in result.output, \
        result.output
