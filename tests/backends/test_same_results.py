"""Every registered behaviour gives the same rows on every backend as on DuckDB.

Rows are compared as Python values (Decimals for money and rates, dates, naive UTC
datetimes), sorted, so a rounding, type or time-zone difference anywhere shows as a failure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple
from datetime import date
from typing import Any

import pyarrow as pa
import pytest
from backend_behaviours import BEHAVIOURS, JUNE_30, USD, Behaviour
from backend_worlds import WORLDS, comparable_type, sorted_rows

from quarterdeck.errors import MissingRateError
from quarterdeck.quality.data_quality import data_quality
from quarterdeck.testing.worlds import load_world
from quarterdeck.warehouse.connection import connect
from quarterdeck.warehouse.schema import canonical_schema
from quarterdeck.warehouse.subscription_mrr import check_rates, subscription_mrr


@pytest.fixture(scope="session")
def on_duckdb() -> Callable[[Behaviour], list[dict[str, Any]]]:
    """The reference rows of a behaviour: computed once, on DuckDB."""
    cons: dict[str, Any] = {}
    results: dict[str, list[dict[str, Any]]] = {}

    def rows(behaviour: Behaviour) -> list[dict[str, Any]]:
        if behaviour.name not in results:
            if behaviour.world not in cons:
                con = connect("duckdb://")
                cons[behaviour.world] = (con, load_world(con, WORLDS[behaviour.world]()))
            con, tables = cons[behaviour.world]
            built = behaviour.build(tables)
            results[behaviour.name] = sorted_rows(
                built if isinstance(built, pa.Table) else con.to_pyarrow(built))
        return results[behaviour.name]

    return rows


@pytest.mark.parametrize("behaviour", [b.param() for b in BEHAVIOURS])
def test_behaviour_gives_the_same_rows_as_on_duckdb(backend: Any, behaviour: Behaviour,
                                                    on_duckdb: Callable) -> None:
    con, tables = backend.tables(behaviour.world)
    expr = behaviour.build(tables)
    if isinstance(expr, pa.Table):  # computed where the tables live, then fetched
        result = expr
    else:
        result = con.to_pyarrow(expr)
        assert result.schema.equals(expr.schema().to_pyarrow())
    expected = on_duckdb(behaviour)
    assert expected, f"{behaviour.name} gives no rows: the comparison would prove nothing"
    assert sorted_rows(result) == expected


def test_canonical_tables_have_the_contract_types(backend: Any) -> None:
    _, tables = backend.tables("reference")
    for name, table in tables.items():
        actual = {c: comparable_type(t) for c, t in table.schema().items()}
        wanted = {c: comparable_type(t) for c, t in canonical_schema(name).items()}
        assert actual == wanted, name


def test_a_missing_rate_is_reported_with_its_currency_and_date(backend: Any) -> None:
    con, tables = backend.tables("missing_rate")
    mrr = subscription_mrr(tables["subscriptions"], tables["fx_rates"], as_of=JUNE_30,
                           base_currency=USD)
    with pytest.raises(MissingRateError) as caught:
        check_rates(con, mrr, USD)
    assert (caught.value.currency, caught.value.date) == ("GBP", date(2024, 3, 1).isoformat())


def test_every_rate_in_effect_passes_the_check(backend: Any) -> None:
    con, tables = backend.tables("reference")
    mrr = subscription_mrr(tables["subscriptions"], tables["fx_rates"], as_of=JUNE_30,
                           base_currency=USD)
    check_rates(con, mrr, USD)


def _quality(con: Any, tables: dict) -> list[tuple]:
    from backend_behaviours import defaults

    ws = defaults()
    report = data_quality(con, tables, as_of=JUNE_30, definitions=ws.quality,
                          sources=ws.sources)
    return [astuple(row) for row in report.rows]


def test_the_data_quality_report_is_the_same_as_on_duckdb(backend: Any) -> None:
    con, tables = backend.tables("reference")
    reference = connect("duckdb://")
    expected = _quality(reference, load_world(reference, WORLDS["reference"]()))
    assert expected
    assert _quality(con, tables) == expected
