"""Ibis compiles the pipeline's expressions to the same SQL, character for character, with
the remembering `complexity` as with its own; and the score is Ibis's on every node."""

from __future__ import annotations

from datetime import date

import ibis
import pytest
from ibis.backends.sql import rewrites

from quarterdeck.appdb.publish_metrics import SERIES_METRICS, series_shape
from quarterdeck.contract.entities import ENTITIES
from quarterdeck.exports import metric_options
from quarterdeck.health.feature_table import feature_table
from quarterdeck.health.health_scores import health_scores
from quarterdeck.lifecycle.book import evaluate_book
from quarterdeck.metrics.registry import metric
from quarterdeck.warehouse import ibis_compile
from quarterdeck.warehouse.account_daily import account_daily
from quarterdeck.warehouse.schema import empty_table
from quarterdeck.workspace.workspace import Workspace

AS_OF = date(2026, 9, 30)


def _expressions(ws: Workspace) -> dict[str, ibis.Table]:
    tables = {name: empty_table(name) for name in ENTITIES}
    features = feature_table(tables, as_of=AS_OF, base_currency="USD",
                             features=ws.health_models.features, lookback=(7, 30))
    book = evaluate_book(tables, ws.book, as_of=AS_OF, base_currency="USD",
                         tiers=[(t.name, t.min_arr) for t in ws.tiers.tiers])
    options = metric_options(ws, AS_OF, series_shape(AS_OF))
    return {
        "account_daily": account_daily(tables, as_of=AS_OF, base_currency="USD"),
        "health": health_scores(features, ws.health_models, as_of=AS_OF),
        "stages": book.stages,
        **{name: metric(name, tables, options) for name in SERIES_METRICS},
    }


def _sql(expressions: dict[str, ibis.Table]) -> dict[str, str]:
    return {name: ibis.to_sql(expr, dialect="duckdb") for name, expr in expressions.items()}


def test_the_sql_is_the_same_with_and_without_the_remembering_complexity(workspace):
    expressions = _expressions(workspace)
    try:
        ibis_compile.uninstall()
        assert rewrites.complexity is ibis_compile._original
        theirs = _sql(expressions)
    finally:
        ibis_compile.install()
    assert rewrites.complexity is ibis_compile.complexity
    ours = _sql(expressions)
    assert ours == theirs
    assert len(ours["health"]) > 10_000  # a deep expression, where merging matters


@pytest.mark.parametrize("name", ["account_daily", "health"])
def test_every_node_scores_as_ibis_scores_it(workspace, name):
    node = _expressions(workspace)[name].op()
    nodes = list(node.find(lambda _: True))[:300]
    ibis_compile._scores.clear()
    assert [ibis_compile.complexity(n) for n in nodes] == [
        ibis_compile._original(n) for n in nodes]
