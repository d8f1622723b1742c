"""The events' quality checks kept up to date from run to run equal the checks computed from
every event: day after day, with late events, orphans that become known users, new orphans,
an empty field, and the cases that recompute from every event.

Each step loads files through the CLI, as a company does each day, then compares the report
computed with the landing area (kept up to date) and without it (every event read).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from quarterdeck.quality import incremental_events as inc
from quarterdeck.quality.data_age import newest_facts
from quarterdeck.quality.data_quality import data_quality, row_tests, warehouse_tables
from quarterdeck.quality.row_tests import judged_rows, row_test_counts
from quarterdeck.warehouse.canonical import canonical_tables
from quarterdeck.warehouse.connection import connect
from quarterdeck.workspace.workspace import open_workspace
from tests.cli_runner import qd, write_csv

EVENTS = "event_id,timestamp,event,account_id,user_id"
USERS = "user_id,account_id,created_at"


def _compare(root: Path, as_of: date) -> inc.EventQuality:
    """Keep the events' checks up to date as of `as_of`, and check the report and the newest
    event equal those computed from every event."""
    ws = open_workspace(root)
    con = connect(f"duckdb:///{root / 'data' / 'warehouse.duckdb'}")
    try:
        tables = warehouse_tables(con)
        tests = [t for t in row_tests(ws.quality, tables) if t.entity == "events"]
        assert inc.applies(con, tables, tests, ws.landing_dir)
        kept = inc.event_quality(con, tables, tests, as_of=as_of, sources=[],
                                 landing_dir=ws.landing_dir)
        args = dict(as_of=as_of, definitions=ws.quality, sources=ws.sources)
        incremental = data_quality(con, tables, landing_dir=ws.landing_dir, **args)
        full = data_quality(con, tables, **args)
        assert incremental.rows == full.rows
        # The rows per source too (what rows refused on load are weighed against).
        every = con.to_pyarrow(row_test_counts(judged_rows(
            tables, "events", tests, as_of=as_of, sources=[]), len(tests))).to_pylist()
        assert sorted(kept.counts, key=lambda c: c["_source"]) == sorted(
            every, key=lambda c: c["_source"])
        facts = con.to_pyarrow(newest_facts(canonical_tables(con), as_of)).to_pylist()
        newest = next(r["newest"] for r in facts if r["entity"] == "events")
        assert inc.kept_newest_day(con, as_of) == newest
        return kept
    finally:
        con.disconnect()


def _events(prefix: str, rows: list[tuple[str, str, str]]) -> list[str]:
    return [f"{prefix}-{i},{ts},click,{account},{user}"
            for i, (ts, account, user) in enumerate(rows, 1)]


def _orphans(root: Path, as_of: date) -> tuple[int, tuple[str, ...]]:
    ws = open_workspace(root)
    con = connect(f"duckdb:///{root / 'data' / 'warehouse.duckdb'}")
    try:
        report = data_quality(con, warehouse_tables(con), as_of=as_of, definitions=ws.quality,
                              sources=ws.sources, landing_dir=ws.landing_dir)
    finally:
        con.disconnect()
    row = next(r for r in report.rows if r.entity == "events" and r.rule == "unknown_user")
    return row.failed, row.examples


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    qd("init", root)
    day1 = tmp_path / "day1"
    write_csv(day1, "accounts", "account_id,name", ["a1,Alpha", "a2,Beta"])
    write_csv(day1, "users", USERS, ["u1,a1,2024-01-01T00:00:00", "u2,a2,2024-01-01T00:00:00"])
    write_csv(day1, "events", EVENTS, _events("e1", [
        ("2024-06-01T09:00:00", "", "u1"), ("2024-06-01T10:00:00", "", "u9"),
        ("2024-06-02T09:00:00", "a2", ""), ("2024-06-03T09:00:00", "", "u9"),
        ("2024-06-03T11:00:00", "", "u8"), ("2024-06-04T09:00:00", "", "u2"),
        ("2024-06-06T09:00:00", "", "u8")]))
    qd("load", day1, "--workspace", root)
    return root


def test_day_after_day_equals_every_event_read(ws: Path, tmp_path: Path):
    kept = _compare(ws, date(2024, 6, 3))
    assert (kept.mode, kept.reason) == ("full", "first run")
    assert _orphans(ws, date(2024, 6, 3)) == (3, ("e1-2", "e1-4", "e1-5"))

    day2 = tmp_path / "day2"
    write_csv(day2, "users", USERS, ["u1,a1,2024-01-01T00:00:00", "u2,a2,2024-01-01T00:00:00",
                                  "u9,a1,2024-06-04T00:00:00"])  # no longer an orphan
    write_csv(day2, "events", EVENTS, _events("e2", [
        ("2024-06-05T09:00:00", "", "u7"),     # a new orphan on a new day
        ("2024-06-01T23:00:00", "", "u8"),     # late: a day already counted
        ("2024-06-09T09:00:00", "", "u1")]))   # after the day asked for
    qd("load", day2, "--workspace", ws)
    kept = _compare(ws, date(2024, 6, 5))
    assert (kept.mode, kept.reason) == ("incremental", "2 new days, 1 late version")
    assert _orphans(ws, date(2024, 6, 5)) == (3, ("e1-5", "e2-1", "e2-2"))

    kept = _compare(ws, date(2024, 6, 9))
    assert (kept.mode, kept.reason) == ("incremental", "4 new days, 0 late versions")
    assert _orphans(ws, date(2024, 6, 9)) == (4, ("e1-5", "e1-7", "e2-1"))
    # The same day again: nothing new, nothing counted twice.
    assert _compare(ws, date(2024, 6, 9)).mode == "incremental"


def test_what_cannot_be_kept_is_recomputed_from_every_event_and_says_why(ws: Path,
                                                                         tmp_path: Path):
    _compare(ws, date(2024, 6, 4))
    kept = _compare(ws, date(2024, 6, 2))
    assert (kept.mode, kept.reason) == (
        "full", "an earlier day (2024-06-02) than the last run (2024-06-04)")
    resend = tmp_path / "resend"  # the same event id again: the earlier row is replaced
    write_csv(resend, "events", EVENTS, ["e1-2,2024-06-02T12:00:00,click,,u1"])
    qd("load", resend, "--workspace", ws)
    kept = _compare(ws, date(2024, 6, 4))
    assert (kept.mode, kept.reason) == ("full", "a later load replaced event rows")
    (ws / "definitions" / "sources.yml").write_text(
        "sources:\n  crm:\n    kind: hubspot\n    expected_every: 1d\n")
    ws_now = open_workspace(ws)
    assert list(ws_now.sources.sources) == ["crm"]  # the sources a row can come from changed
    con = connect(f"duckdb:///{ws / 'data' / 'warehouse.duckdb'}")
    try:
        tables = warehouse_tables(con)
        tests = [t for t in row_tests(ws_now.quality, tables) if t.entity == "events"]
        kept = inc.event_quality(con, tables, tests, as_of=date(2024, 6, 4), sources=["crm"],
                                 landing_dir=ws_now.landing_dir)
    finally:
        con.disconnect()
    assert (kept.mode, kept.reason) == ("full", "the quality tests or the sources changed")


def test_a_crash_before_the_state_is_written_keeps_the_last_one(ws: Path, monkeypatch):
    _compare(ws, date(2024, 6, 3))

    def fail(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(inc, "_save", fail)
    with pytest.raises(RuntimeError):
        _compare(ws, date(2024, 6, 5))
    monkeypatch.undo()
    assert _compare(ws, date(2024, 6, 5)).mode == "incremental"


def test_an_accuracy_rule_on_events_is_read_from_every_event(ws: Path):
    (ws / "definitions" / "quality.yml").write_text(
        "rules:\n  - name: one_event_id\n    kind: unique\n    entity: events\n"
        "    field: event_id\n    severity: warning\n    description: ids are unique.\n")
    root = open_workspace(ws)
    con = connect(f"duckdb:///{ws / 'data' / 'warehouse.duckdb'}")
    try:
        tables = warehouse_tables(con)
        tests = [t for t in row_tests(root.quality, tables) if t.entity == "events"]
        assert not inc.applies(con, tables, tests, root.landing_dir)
    finally:
        con.disconnect()


def test_the_newest_event_kept_is_not_used_once_events_were_loaded_since(ws: Path,
                                                                        tmp_path: Path):
    _compare(ws, date(2024, 6, 5))
    more = tmp_path / "more"
    write_csv(more, "events", EVENTS, ["e9-1,2024-06-05T10:00:00,click,,u1"])
    qd("load", more, "--workspace", ws)
    con = connect(f"duckdb:///{ws / 'data' / 'warehouse.duckdb'}")
    try:
        assert inc.kept_newest_day(con, date(2024, 6, 5)) is None
    finally:
        con.disconnect()
    # The next run adds the late version and keeps the newest event again.
    assert _compare(ws, date(2024, 6, 5)).mode == "incremental"


def test_the_quality_command_reads_every_event_and_leaves_the_kept_counts_alone(ws: Path):
    _compare(ws, date(2024, 6, 5))
    out = qd("quality", "--as-of", "2024-06-09", "--all", "--workspace", ws)
    assert "unknown_user" in out or "user belongs" in out
    con = connect(f"duckdb:///{ws / 'data' / 'warehouse.duckdb'}")
    try:
        assert inc.kept_newest_day(con, date(2024, 6, 5)) == date(2024, 6, 4)
    finally:
        con.disconnect()



def test_a_recommended_field_left_empty_gets_its_examples_day_after_day(ws: Path,
                                                                        tmp_path: Path):
    # The loader refuses events without their required fields, so only a field the company
    # recommends can fail completeness: its first failing ids are kept as examples.
    quality = ws / "definitions" / "quality.yml"
    quality.write_text(quality.read_text().replace(
        "    invoices: [due_at]\n", "    invoices: [due_at]\n    events: [properties]\n"))
    con = connect(f"duckdb:///{ws / 'data' / 'warehouse.duckdb'}")
    try:
        tests = row_tests(open_workspace(ws).quality, warehouse_tables(con))
    finally:
        con.disconnect()
    empty = next(i for i, t in enumerate(t for t in tests if t.entity == "events")
                 if t.field == "properties")
    kept = _compare(ws, date(2024, 6, 3))
    assert kept.mode == "full"
    assert kept.examples[("files", empty)] == ["e1-1", "e1-2", "e1-3"]
    more = tmp_path / "more"
    write_csv(more, "events", "event_id,timestamp,event,account_id,user_id,properties", [
        'e0-1,2024-06-04T09:00:00,click,a1,,"{""plan"": ""pro""}"',
        "e0-2,2024-06-04T10:00:00,click,a1,,"])
    qd("load", more, "--workspace", ws)
    kept = _compare(ws, date(2024, 6, 4))
    assert kept.mode == "incremental"
    assert kept.examples[("files", empty)] == ["e0-2", "e1-1", "e1-2"]
