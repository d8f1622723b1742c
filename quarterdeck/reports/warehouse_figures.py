"""The weekly report's figures computed in the warehouse, by the same functions
`quarterdeck export` runs, so every figure equals the export of the same date:

- the ARR bridge of the calendar week (Monday to Sunday) and of the fiscal quarter holding
  the date, to the date (`mrr_bridge` with grain week and fiscal_quarter);
- trailing-12-month retention ending on the date (`retention`, window 12);
- health bands of the date and of seven days earlier (`health_scores`);
- renewal decisions that became known in the week (`renewal_outcomes`: a decision is known
  once its grace period is over).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from quarterdeck.exports import Shape, metric_options
from quarterdeck.health import (
    feature_table,
    health_scores,
    paying_accounts,
    renewal_outcomes,
    score_features,
)
from quarterdeck.health.renewal_outcomes import GRACE_DAYS
from quarterdeck.metrics.registry import metric
from quarterdeck.reports.weekly_report import BridgePeriod, ComponentMove
from quarterdeck.warehouse.canonical import canonical_tables
from quarterdeck.workspace.workspace import Workspace

MOVES = ("new", "expansion", "contraction", "churn", "reactivation", "fx_adjustment")
WEEK = 7


@dataclass(frozen=True)
class HealthChange:
    """An account's band a week ago and now, with the components whose points moved."""

    account_id: str
    band_before: str
    band_now: str
    score_before: float | None
    score_now: float | None
    components: list[ComponentMove]


def rows(con: BaseBackend, expr: ir.Table) -> list[dict[str, Any]]:
    return con.to_pyarrow(expr).to_pylist()


def bridge_period(ws: Workspace, con: BaseBackend, as_of: date, grain: str) -> BridgePeriod:
    """The last period of `mrr_bridge` at `grain` (the one holding `as_of`, to the date)."""
    tables = canonical_tables(con)
    bridge = metric("mrr_bridge", tables, metric_options(ws, as_of, Shape(grain=grain,
                                                                         start=as_of)))
    found = rows(con, bridge.order_by(ibis.desc("period_start")).limit(1))
    if not found:
        zero = Decimal(0)
        return BridgePeriod(period=str(as_of), period_start=as_of, period_end=as_of,
                            starting_arr=zero, ending_arr=zero, **dict.fromkeys(MOVES, zero),
                            starting_customers=0, new_customers=0, churned_customers=0,
                            ending_customers=0)
    row = found[0]
    twelve = Decimal(12)
    return BridgePeriod(
        period=row["period"], period_start=row["period_start"], period_end=row["period_end"],
        starting_arr=Decimal(str(row["starting_arr"])), ending_arr=Decimal(str(row["ending_arr"])),
        **{m: Decimal(str(row[m])) * twelve for m in MOVES},
        starting_customers=row["starting_customers"], new_customers=row["new_customers"],
        churned_customers=row["churned_customers"], ending_customers=row["ending_customers"])


def trailing_retention(ws: Workspace, con: BaseBackend, as_of: date) -> dict[str, Any]:
    """The retention row of the 12 months ending on `as_of` (the last period's window)."""
    tables = canonical_tables(con)
    shape = Shape(grain="day", window_months=12, start=as_of)
    table = metric("retention", tables, metric_options(ws, as_of, shape))
    found = rows(con, table.filter(table.period_end == ibis.literal(as_of)))
    return found[0] if found else {}


def health_week(ws: Workspace, con: BaseBackend,
                as_of: date) -> tuple[list[HealthChange], dict[str, dict[str, Any]]]:
    """Accounts scored on both dates whose band differs, with the components that moved, and
    every scored account's band, score and reasons on `as_of`."""
    # The features are computed once, for the date and its lookback days (as the export of
    # health_scores asks for them), and scored in memory: the date's rows are the export of
    # the date; the rows of seven days earlier, for the accounts paying then, are the export
    # of that day (features and points of a day depend only on the facts known that day).
    base = ws.settings.base_currency
    tables = canonical_tables(con)
    f = feature_table(tables, as_of=as_of, base_currency=base,
                      features=ws.health_models.features, lookback=(WEEK, 30))
    f = ibis.memtable(con.to_pyarrow(f))
    now = health_scores(f, ws.health_models, as_of=as_of)
    week_ago = as_of - timedelta(days=WEEK)
    scored = score_features(f, ws.health_models)
    paying = {r["account_id"] for r in rows(con, paying_accounts(
        tables, as_of=week_ago, base_currency=base).select("account_id"))}
    points = [c for c in now.columns if c.endswith("_points")]
    current = {r["account_id"]: r for r in now.select("account_id", "band", "score", "reasons",
                                                      *points).to_pyarrow().to_pylist()}
    before = scored.filter(scored.as_of == ibis.literal(week_ago))
    earlier = {r["account_id"]: r for r in before.select("account_id", "band", "score", *points)
               .to_pyarrow().to_pylist() if r["account_id"] in paying}
    out = []
    for account in sorted(set(current) & set(earlier)):
        row, old = current[account], earlier[account]
        if row["band"] is None or old["band"] is None or row["band"] == old["band"]:
            continue
        moved = [ComponentMove(component=p.removesuffix("_points"), points_before=old[p],
                               points_now=row[p]) for p in points if old[p] != row[p]]
        moved.sort(key=lambda m: -abs((m.points_now or 0) - (m.points_before or 0)))
        out.append(HealthChange(account, old["band"], row["band"], old["score"], row["score"],
                                moved))
    return out, current


def renewals_known_in_week(ws: Workspace, con: BaseBackend, as_of: date) -> list[dict[str, Any]]:
    """Renewal decisions whose grace period ended in the seven days ending on `as_of`."""
    t = renewal_outcomes(canonical_tables(con), as_of=as_of,
                         base_currency=ws.settings.base_currency)
    first = as_of - timedelta(days=WEEK + GRACE_DAYS - 1)
    last = as_of - timedelta(days=GRACE_DAYS)
    t = t.filter((t.decision_date >= ibis.literal(first)) & (t.decision_date <= ibis.literal(last)))
    return rows(con, t.order_by([ibis.desc("arr_at_stake"), "account_id"]))
