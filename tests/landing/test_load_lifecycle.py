"""Loading is idempotent, versioned, format-agnostic and atomic."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from quarterdeck.errors import UnknownEntityError
from quarterdeck.ingest import load_into_workspace
from quarterdeck.warehouse.connection import connect
from tests.conftest import write

ACCOUNTS = """
account_id,name,segment,created_at,tier_note
a1,Acme,SMB,2024-01-01,gold
a2,Beta,Enterprise,2024-02-01,
"""


def table(ws, name):
    con = connect(ws.warehouse_url, read_only=True)
    try:
        return con.table(name).order_by(con.table(name).columns[0]).execute()
    finally:
        con.disconnect()


def test_loading_the_same_file_twice_changes_nothing(workspace):
    path = write(workspace.root / "in" / "accounts.csv", ACCOUNTS)
    first = load_into_workspace(workspace, [path]).files[0]
    second = load_into_workspace(workspace, [path]).files[0]
    assert (first.status, first.rows_loaded) == ("loaded", 2)
    assert second.status == "unchanged"
    assert len(table(workspace, "accounts")) == 2
    assert len(list((workspace.landing_dir / "accounts").glob("*.parquet"))) == 1


def test_changed_file_updates_rows_and_lands_a_new_version(workspace):
    path = write(workspace.root / "in" / "accounts.csv", ACCOUNTS)
    load_into_workspace(workspace, [path])
    write(path, """
        account_id,name,segment,created_at,region
        a2,Beta Corp,Mid-Market,2024-02-01,EMEA
        a3,Gamma,SMB,2024-03-01,NA
    """)
    load_into_workspace(workspace, [path])
    accounts = table(workspace, "accounts")
    assert list(accounts.account_id) == ["a1", "a2", "a3"]
    assert accounts.set_index("account_id").loc["a2", "name"] == "Beta Corp"
    assert accounts.set_index("account_id").loc["a1", "tier_note"] == "gold"  # custom attribute
    assert accounts.set_index("account_id").loc["a3", "region"] == "NA"
    versions = sorted((workspace.landing_dir / "accounts").glob("*.parquet"))
    assert len(versions) == 2
    assert pq.read_table(versions[0]).num_rows == 2  # the first version is kept as it was


def test_events_resent_with_the_same_ids_replace_the_earlier_ones(workspace):
    inbox = workspace.root / "in"
    load_into_workspace(workspace, [write(inbox / "accounts.csv", ACCOUNTS)])
    write(inbox / "events-1.csv", """
        event_id,timestamp,event,account_id,value
        e1,2024-01-05T10:00:00Z,login,a1,1
        e2,2024-01-05T11:00:00Z,export,a1,2
    """)
    write(inbox / "events-2.csv", """
        event_id,timestamp,event,account_id,value
        e2,2024-01-05T11:00:00Z,export,a2,5
        e3,2024-01-06T09:00:00Z,login,a2,1
    """)
    load_into_workspace(workspace, [inbox / "events-1.csv"])
    load_into_workspace(workspace, [inbox / "events-2.csv"])
    events = table(workspace, "events")
    assert list(events.event_id) == ["e1", "e2", "e3"]
    assert events.set_index("event_id").loc["e2", "account_id"] == "a2"
    assert events.set_index("event_id").loc["e2", "value"] == 5


def test_parquet_and_ndjson_load_like_csv(workspace):
    inbox = workspace.root / "in"
    write(inbox / "accounts.csv", ACCOUNTS)
    pq.write_table(pa.table({
        "subscription_id": ["s1"], "account_id": ["a1"], "plan": ["Pro"],
        "quantity": [10.0], "unit_price": [50.0], "currency": ["EUR"], "interval_months": [12],
        "start_date": pa.array([__import__("datetime").date(2024, 1, 1)]),
    }), inbox / "subscriptions.parquet")
    lines = [
        {"event_id": "e1", "timestamp": "2024-01-05T10:00:00+02:00", "event": "login",
         "account_id": "a1", "properties": {"browser": "firefox"}},
        {"event_id": "e2", "timestamp": "2024-01-05", "event": "export", "user_id": "u9",
         "value": 3},
    ]
    (inbox / "events.ndjson").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    report = load_into_workspace(workspace, [inbox])
    assert report.ok and [f.entity for f in report.files] == ["accounts", "subscriptions",
                                                               "events"]
    events = table(workspace, "events")
    assert str(events.timestamp[0]) == "2024-01-05 08:00:00"  # offsets are applied: stored UTC
    assert json.loads(events.properties[0]) == {"browser": "firefox"}
    assert list(events.value) == [1.0, 3.0]  # value defaults to 1
    subs = table(workspace, "subscriptions")
    assert float(subs.unit_price[0]) == 50.0 and subs.discount[0] == 0


def test_entity_comes_from_the_option_when_the_name_does_not_say(workspace):
    path = write(workspace.root / "in" / "crm_export.csv", ACCOUNTS)
    with pytest.raises(UnknownEntityError, match="--entity"):
        load_into_workspace(workspace, [path])
    assert load_into_workspace(workspace, [path], entity="accounts").ok


def _big_csv(path: Path, entity: str, rows: int) -> Path:
    import duckdb

    select = {
        "events": "'e' || i AS event_id, TIMESTAMP '2024-01-01' + INTERVAL (i) SECOND "
                  "AS timestamp, 'login' AS event",
        "usage_daily": "DATE '2020-01-01' + CAST(i // 2 AS INTEGER) AS date, "
                       "'m' || (i % 2) AS metric, i AS value",
    }[entity]
    duckdb.sql(f"""COPY (SELECT {select}, CASE WHEN i % 2 = 0 THEN 'a1' ELSE 'a2' END
        AS account_id FROM range({rows}) t(i)) TO '{path}' (HEADER)""")
    return path


KILL_SCRIPT = """
import sys
from pathlib import Path
from quarterdeck.ingest import load_into_workspace
from quarterdeck.workspace.workspace import open_workspace
ws = open_workspace(Path(sys.argv[1]))
def progress(file, stage):
    print(stage, flush=True)
load_into_workspace(ws, [Path(sys.argv[2])], progress=progress)
print("finished", flush=True)
"""
ROWS = 1_500_000


@pytest.mark.slow
@pytest.mark.parametrize("entity", ["events", "usage_daily"])
@pytest.mark.parametrize(("kill_at", "delay"), [("reading and checking rows", 0.3),
                                                ("landing", 0.2),
                                                ("updating the warehouse", 0.0)])
def test_kill_9_mid_load_leaves_all_or_nothing(workspace, entity, kill_at, delay):
    """Whenever the load dies, the warehouse holds the whole file or none of it, and the next
    load finishes the job with one landed version."""
    load_into_workspace(workspace, [write(workspace.root / "in" / "accounts.csv", ACCOUNTS)])
    big = _big_csv(workspace.root / "in" / f"{entity}.csv", entity, ROWS)
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(workspace.root),
                             str(big)], stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if line.strip() == kill_at:
            time.sleep(delay)
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the load finished before it could be killed"

    rows = len(table(workspace, entity))
    recorded = [r for r in _loads(workspace) if r["entity"] == entity]
    assert (rows, len(recorded)) in ((0, 0), (ROWS, 1))
    if kill_at != "updating the warehouse":
        assert rows == 0  # killed before the commit could start
    report = load_into_workspace(workspace, [big])
    assert len(table(workspace, entity)) == ROWS
    assert report.files[0].status == ("unchanged" if recorded else "loaded")
    assert len(list((workspace.landing_dir / entity).iterdir())) == 1


def _loads(ws):
    con = connect(ws.warehouse_url, read_only=True)
    try:
        return con.sql("SELECT * FROM _quarterdeck_loads").execute().to_dict("records")
    finally:
        con.disconnect()


@pytest.mark.slow
def test_row_numbers_follow_the_file_in_a_large_csv_read_in_parallel(workspace):
    import duckdb

    load_into_workspace(workspace, [write(workspace.root / "in" / "accounts.csv", ACCOUNTS)])
    path = workspace.root / "in" / "events.csv"
    bad_row = 1_234_567
    duckdb.sql(f"""COPY (SELECT 'e' || i AS event_id,
        CASE WHEN i = {bad_row} THEN 'not-a-time'
             ELSE strftime(TIMESTAMP '2024-01-01' + INTERVAL (i) SECOND, '%Y-%m-%dT%H:%M:%SZ')
        END AS timestamp, 'login' AS event, 'a1' AS account_id
        FROM range(1, 1_500_001) t(i)) TO '{path}' (HEADER)""")
    result = load_into_workspace(workspace, [path]).files[0]
    assert [(p.row, p.field, p.value) for p in result.problems] == [
        (bad_row, "timestamp", "not-a-time")]


def test_column_names_match_in_any_case_and_spacing(workspace):
    path = write(workspace.root / "in" / "accounts.csv", """
        Account_ID , NAME,Segment
        a1,Acme,SMB
    """)
    assert load_into_workspace(workspace, [path]).ok
    accounts = table(workspace, "accounts")
    assert list(accounts.account_id) == ["a1"] and list(accounts.segment) == ["SMB"]
