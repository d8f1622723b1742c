"""Why an account scores what it does: the components pulling its score down most, in words.

A component is a reason when its points are below the model's green line (`bands.yellow`).
Its pull is its share of the weight used times the points it lacks:
weight / Σ weights with data × (100 − points). The top reasons are the largest pulls, each
phrased from the raw value by its feature ("usage down 45% in 30 days", "2 urgent tickets in
30 days").

Example: top_reasons(scored, models) → account_id, as_of, reason_1, reason_2, reason_3, reasons.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from quarterdeck.health.definitions import HealthModels
from quarterdeck.health.features import feature
from quarterdeck.health.scoring import component_points

TOP_REASONS = 3


def points_column(feature_name: str) -> str:
    """The column holding a component's points. Example: points_column("arr") → "arr_points"."""
    return f"{feature_name}_points"


def top_reasons(scored: ir.Table, models: HealthModels, k: int = TOP_REASONS) -> ir.Table:
    """The `k` reasons per (account_id, as_of) of a scored table (see the module).

    `scored` holds account_id, as_of, model, weight_covered and each component's raw value and
    points. Rows without a reason get NULLs; `reasons` joins them with "; ".
    """
    pulls: list[ir.Table] = []
    for m in models.models:
        total = sum(c.weight for c in m.components)
        assert m.bands is not None
        mine = scored.filter((scored.model == m.name) & (scored.weight_covered > 0))
        for c in m.components:
            pts = component_points(c, mine[c.feature])
            pull = c.weight / (mine.weight_covered * total) * (100 - pts)
            row = mine.select("account_id", "as_of", pull=pull.cast(dt.float64),
                              points=pts, reason=feature(c.feature).phrase(mine[c.feature]),
                              feature=ibis.literal(c.feature))
            pulls.append(row.filter(row.points.notnull() & (row.points < m.bands.yellow)))
    keys = scored.select("account_id", "as_of").distinct()
    if not pulls:
        return keys.mutate(**{f"reason_{i}": ibis.null(dt.string) for i in range(1, k + 1)},
                           reasons=ibis.null(dt.string))
    long = ibis.union(*pulls)
    order = ibis.window(group_by=[long.account_id, long.as_of],
                        order_by=[ibis.desc(long.pull), long.feature])
    long = long.mutate(rank=ibis.row_number().over(order) + 1)
    long = long.filter(long.rank <= k)
    wide = long.group_by(["account_id", "as_of"]).agg(
        **{f"reason_{i}": long.reason.max(where=long.rank == i) for i in range(1, k + 1)})
    joined: ir.StringValue = wide.reason_1
    for i in range(2, k + 1):
        nxt = wide[f"reason_{i}"]
        joined = ibis.ifelse(nxt.isnull(), joined, joined + "; " + nxt)
    wide = wide.mutate(reasons=joined)
    out = keys.left_join(wide, ["account_id", "as_of"])
    return out.drop("account_id_right", "as_of_right")
