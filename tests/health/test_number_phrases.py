"""Numbers in reasons: the engine's own `format` where it has one, the portable spelling
elsewhere, and the two spell every number alike."""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from quarterdeck.health.features import FEATURES
from quarterdeck.health.number_phrases import portable_thousands, thousands
from quarterdeck.warehouse.connection import connect


def _both(con, values: list[float | None]) -> tuple[list, list]:
    t = con.create_table("numbers", pa.table({"v": pa.array(values, pa.float64())}),
                         overwrite=True)
    n = t.v.cast(dt.float64).round(0).cast(dt.int64)
    got = con.to_pyarrow(t.select(engine=thousands(t.v), portable=portable_thousands(n)))
    return got["engine"].to_pylist(), got["portable"].to_pylist()


def test_duckdb_spells_numbers_as_the_portable_spelling_does(duck):
    values = [None, 0.0, 0.4, 0.5, -0.5, 999.4, 999.5, 1000.0, -1000.0, 439714.4, -1234567.0,
              1.5e9, -9.99e11, 123456789012345.0, 2.0**52, 141201107534734992.0, 2.0**62,
              -(2.0**62)]
    engine, portable = _both(duck.con, values)
    assert engine == portable
    assert engine[:2] == [None, "0"]
    assert engine[9] == "439,714"
    assert engine[13] == "123,456,789,012,345"
    assert engine[15] == "141,201,107,534,734,992"
    assert engine[16] == "4,611,686,018,427,387,904"


@settings(max_examples=25, deadline=None)
@given(st.lists(st.one_of(st.floats(min_value=-1e15, max_value=1e15, allow_nan=False),
                          st.integers(-(2**63) + 1024, 2**63 - 1024).map(float)),
                min_size=1, max_size=50))
def test_the_two_spellings_agree_on_any_number(values):
    con = connect("duckdb://")
    try:
        engine, portable = _both(con, values)
    finally:
        con.disconnect()
    assert engine == portable


def test_a_phrase_on_duckdb_is_a_small_query_and_elsewhere_portable(duck):
    """Twenty phrases in one CASE spelled portably made a query of about 200 KB that DuckDB
    took longer to plan than to run; with its own `format` the same is a few KB."""
    names = [n for n, f in FEATURES.items() if f.phrase is not None]
    t = duck.con.create_table("v", pa.table({"feature": ["arr"], "value": [1234.0]}))
    unbound = ibis.table({"feature": "string", "value": "float64"}, name="v")

    def phrased(table):
        return table.mutate(reason=ibis.cases(
            *[(table.feature == n, FEATURES[n].phrase(table.value)) for n in names]))

    on_duckdb = duck.con.compile(phrased(t))
    portable = ibis.to_sql(phrased(unbound), dialect="postgres")
    assert "FORMAT('{:,}'" in on_duckdb
    assert "FORMAT(" not in portable.upper()
    assert len(on_duckdb) * 10 < len(portable)
    assert duck.con.to_pyarrow(phrased(t))["reason"].to_pylist() == ["ARR 1,234"]
