"""A workspace moved to another folder, or restored from a copy made elsewhere, reads its own
landing area: the events view names its files by full path; a run points it anew, and a
read-only reader meanwhile reads through a view of its own."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb

from quarterdeck.warehouse.connection import open_warehouse
from quarterdeck.workspace.workspace import open_workspace
from tests.cli_runner import qd


def _warehouse(ws: Path, sql: str) -> object:
    with duckdb.connect(str(open_workspace(ws).warehouse_url.removeprefix("duckdb://")),
                        read_only=True) as con:
        return con.execute(sql).fetchall()[0][0]


def _events_view(ws: Path) -> str:
    return str(_warehouse(ws, "SELECT sql FROM duckdb_views() WHERE view_name = 'events'"))


def test_a_moved_workspace_runs_on_its_own_landing_area(tmp_path: Path) -> None:
    company = tmp_path / "company"
    qd("demo", "--out", company, "--accounts", 30, "--years", 1, "--seed", 4)
    today = date.fromisoformat(json.loads((company / "demo.json").read_text())["today"])
    first, moved, restored = tmp_path / "first", tmp_path / "moved", tmp_path / "restored"
    qd("init", first)
    qd("load", company / "data", "--workspace", first)
    events = _warehouse(first, "SELECT count(*) FROM events")
    shutil.copytree(first, restored)  # a backup restored elsewhere, the original kept
    shutil.move(first, moved)  # the original moved: its old folder is gone

    # Read-only first, as `quarterdeck export` or a report opens it: the connection's own view.
    reader = open_warehouse(open_workspace(moved), read_only=True)
    try:
        assert reader.table("events").count().execute() == events
    finally:
        reader.disconnect()
    assert str(first) in _events_view(moved)  # the stored view is left to a writer
    qd("run", "--as-of", today, "--workspace", moved)
    assert str(moved / "data") in _events_view(moved)
    assert str(first) not in _events_view(moved)
    qd("run", "--as-of", today, "--workspace", restored)
    assert str(restored / "data") in _events_view(restored)
    assert _warehouse(moved, "SELECT count(*) FROM events") == events > 0
    assert _warehouse(restored, "SELECT count(*) FROM events") == events
