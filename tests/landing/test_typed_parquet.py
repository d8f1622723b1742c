"""Typed Parquet columns land as they are: a timestamp with a time zone as its UTC wall-clock
time, a double as itself; NULL, NaN and infinity are named as the text route names them."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from quarterdeck.contract.entities import ENTITIES
from quarterdeck.ingest import load_into_workspace
from quarterdeck.landing.row_checks import column_sql
from quarterdeck.warehouse.connection import connect
from tests.conftest import write

PARIS = timezone(timedelta(hours=2))
MOMENTS = [
    datetime(2024, 3, 31, 1, 59, 59, 999999, tzinfo=UTC),
    datetime(2024, 3, 31, 4, 30, tzinfo=PARIS),
    datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
]
VALUES = [1.5, None, -0.0, 0.1, 1e300, 5e-324, float("nan"), float("inf"), -float("inf")]


def _events(path):
    n = len(MOMENTS) + len(VALUES) + 1
    ts = [*MOMENTS, *[MOMENTS[0]] * len(VALUES), None]
    value = [*[2.0] * len(MOMENTS), *VALUES, 1.0]
    pq.write_table(pa.table({
        "event_id": [f"e{i}" for i in range(n)],
        "timestamp": pa.array(ts, pa.timestamp("us", tz="Europe/Paris")),
        "event": ["login"] * n,
        "account_id": ["a1"] * n,
        "value": pa.array(value, pa.float64()),
    }), path)


def test_timestamps_and_doubles_land_as_they_are_and_bad_ones_are_named(workspace):
    path = workspace.root / "in" / "events.parquet"
    assert load_into_workspace(workspace, [write(workspace.root / "in" / "accounts.csv",
                                                 "account_id,name\na1,Acme\n")]).ok
    _events(path)
    result = load_into_workspace(workspace, [path], skip_invalid=True).files[0]
    problems = {(p.row, p.field, p.reason) for p in result.problems}
    n = len(MOMENTS)
    nan, inf, minus_inf = (n + VALUES.index(v) + 1 for v in VALUES[-3:])
    assert problems == {(nan, "value", "not a number"), (inf, "value", "not a number"),
                        (minus_inf, "value", "not a number"),
                        (n + len(VALUES) + 1, "timestamp", "required value is missing")}
    con = connect(workspace.warehouse_url)
    rows = {r["event_id"]: r for r in con.table("events").execute().to_dict("records")}
    con.disconnect()
    for i, moment in enumerate(MOMENTS):
        assert rows[f"e{i}"]["timestamp"].to_pydatetime() == moment.astimezone(UTC).replace(
            tzinfo=None)
    for k, v in enumerate(VALUES[:-3]):
        landed = rows[f"e{n + k}"]["value"]
        expected = 1.0 if v is None else v  # the contract's default
        assert landed == expected and math.copysign(1, landed) == math.copysign(1, expected)


def test_a_typed_column_reads_as_its_text_would():
    # Read straight from the typed column, the value and its problems equal those read
    # through the column's text (timezone('UTC', …), TRY_CAST of the trimmed text), on the
    # values where the two could part: infinity, NaN, the extremes, -0.0, NULL.
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "CREATE TABLE t AS SELECT * FROM (VALUES "
        "(TIMESTAMPTZ 'infinity', 'nan'::DOUBLE), (TIMESTAMPTZ '-infinity', 'inf'::DOUBLE), "
        "(TIMESTAMPTZ '2024-03-31 04:30:00.000001+02', -0.0), (NULL, NULL), "
        "(TIMESTAMPTZ '0001-01-01 00:00:00+00', 1e300), "
        "(TIMESTAMPTZ '1969-12-31 23:59:59.999999+00', '-inf'::DOUBLE)) v(ts, x)")
    columns = {c.name: c for c in ENTITIES["events"].columns}

    def read(name: str, kind: str, source: str) -> list[tuple]:
        c = column_sql(columns[name], kind)
        wrong = " OR ".join(f"COALESCE({cond}, FALSE)" for cond, _ in c.checks) or "FALSE"
        return con.execute(f"SELECT {c.typed}, {wrong} FROM (SELECT {source} AS \"{name}\" "
                           "FROM t)").fetchall()

    text = "NULLIF(TRIM(CAST(\"{0}\" AS VARCHAR)), '')"
    stamps = read("timestamp", "TIMESTAMP WITH TIME ZONE", "ts")
    assert stamps == con.execute(
        f"SELECT timezone('UTC', ts), {text.format('ts')} IS NULL FROM t").fetchall()
    values = read("value", "DOUBLE", "x")
    by_text = con.execute(
        f"SELECT COALESCE(TRY_CAST({text.format('x')} AS DOUBLE), 1.0), "
        f"{text.format('x')} IS NOT NULL AND (TRY_CAST({text.format('x')} AS DOUBLE) IS NULL "
        f"OR NOT isfinite(TRY_CAST({text.format('x')} AS DOUBLE))) FROM t").fetchall()
    assert [(str(v), w) for v, w in values] == [(str(v), w) for v, w in by_text]
    assert [r[1] for r in values] == [True, True, False, False, False, True]


def test_a_time_of_day_with_an_offset_loads_as_before(workspace, tmp_path):
    # Only a timestamp with a time zone is read through its microseconds; a time of day with
    # an offset (no such thing as isfinite) is still converted by the time-zone library.
    assert load_into_workspace(workspace, [write(workspace.root / "in" / "accounts.csv",
                                                 "account_id,name\na1,Acme\n")]).ok
    path = tmp_path / "events.parquet"
    duckdb.connect().execute(
        "COPY (SELECT 'e1' AS event_id, TIMETZ '10:00:00+02' AS \"timestamp\", "
        f"'login' AS event, 'a1' AS account_id) TO '{path}' (FORMAT parquet)")
    assert load_into_workspace(workspace, [path]).files[0].status == "loaded"
