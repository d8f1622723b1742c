"""The leadership page: where the business stands on a published day, for a VP of customer
success: the ARR bridge, retention and logo churn by segment, health and its movement, the
renewal forecast, the team's capacity and execution, and how far the data can be trusted.

The page reads `quarterdeck.app.leadership_queries.leadership`, as `/api/leadership` does;
every figure links to its definition (`DEFINITIONS`, as in docs/leadership.md) and to the
accounts behind it.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from markupsafe import Markup
from starlette.responses import Response

from quarterdeck.app.auth import current_user
from quarterdeck.app.charts import Series, Step, stacked_bar_chart, trend_chart, waterfall_chart
from quarterdeck.app.formatting import compact_money, money
from quarterdeck.app.leadership_queries import (
    DayNotPublished,
    Leadership,
    Retention,
    Revenue,
    leadership,
)
from quarterdeck.app.pages.accounts import BAND_LABELS
from quarterdeck.app.pages.book import DEFINITIONS as OPERATIONS_DEFINITIONS
from quarterdeck.app.queries import BANDS, NO_SCORE
from quarterdeck.app.rendering import render
from quarterdeck.appdb.publish_metrics import series_start

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_user)])

_EXPORT = "quarterdeck export {metric} --as-of {day} --grain month --by segment --start {start}"
#: Each figure of the page: key (its anchor, #def-<key>), label, definition, and how to
#: compute it again from the command line ({day} and {start} filled in).
DEFINITIONS: list[tuple[str, str, str, str]] = [
    ("arr", "ARR", "Annual recurring revenue = 12 × MRR on the day, over every paying account; "
     "the ending ARR of the month's bridge.", _EXPORT.format(metric="mrr_bridge", day="{day}",
                                                             start="{start}")),
    ("bridge", "ARR bridge", "Starting ARR (the day before the month) + new + expansion + "
     "reactivation + contraction + churn + FX adjustment = ending ARR (the month's last day, "
     "or the as-of day for the current month), to the cent. Movements are 12 × the export's "
     "MRR movements.", _EXPORT.format(metric="mrr_bridge", day="{day}", start="{start}")),
    ("new", "New", "ARR of accounts paying for the first time ever.", ""),
    ("expansion", "Expansion", "ARR added by accounts that were already paying.", ""),
    ("reactivation", "Reactivation", "ARR of accounts paying again after having churned.", ""),
    ("contraction", "Contraction", "ARR lost by accounts that still pay.", ""),
    ("churn", "Churn", "ARR of accounts that stopped paying, recognised at the end of their "
     "paid period.", ""),
    ("fx_adjustment", "FX adjustment", "Change of ARR from exchange rates alone: rates never "
     "create a movement.", ""),
    ("net_new", "Net new ARR", "Ending ARR − starting ARR of the month: the sum of its "
     "movements.", ""),
    ("nrr", "NRR (12 months)", "Net revenue retention: of the accounts paying 12 months "
     "before the month end, their MRR at the month end ÷ their MRR then (expansion "
     "included).", _EXPORT.format(metric="retention", day="{day}", start="{start}")
     + " --window 12"),
    ("grr", "GRR (12 months)", "Gross revenue retention: the same cohort's MRR at the month "
     "end, each account capped at what it paid 12 months before, ÷ their MRR then.", ""),
    ("logo_churn_rate", "Logo churn (12 months)", "Share of the accounts paying 12 months "
     "before the month end that are no longer customers at the month end.", ""),
    ("logos_churned", "Logos churned", "Accounts that were customers on the day before the "
     "month and are not on its last day (the bridge's churned_customers).",
     _EXPORT.format(metric="mrr_bridge", day="{day}", start="{start}")),
    ("health_bands", "Health distribution", "Paying accounts (MRR above zero) of the day by "
     "the band of their latest health score published on or before it; no score when the "
     "account's segment has no health model or too little data. ARR is the day's.",
     "quarterdeck export health_scores --as-of {day}"),
    ("health_movement", "Health movement", "Accounts with a band both on the day and 7 (or "
     "30) days earlier, by band then and now: improved is a better band now, worsened a "
     "worse one; the scores compared are the latest published on or before each day.",
     "quarterdeck export health_scores --as-of {day}"),
    ("forecast", "Renewal forecast", "Renewal decisions due in the next 180 days by calendar "
     "quarter: ARR at stake, expected renewed ARR (ARR × probability the decision is reached "
     "× probability it renews) with its 90% interval, committed (the CSMs' commit calls) "
     "and best case (commit and best-case calls).",
     "quarterdeck export forecast_periods --as-of {day} --grain quarter --horizon 180"),
    *[(f"ops_{key}", label, text, "quarterdeck ops --as-of {day} --by csm")
      for key, label, text in OPERATIONS_DEFINITIONS],
    ("quality", "Data quality", "Checks of the data-quality report by status, and each "
     "source's freshness: the newest row against the source's expected_every.",
     "quarterdeck quality --as-of {day}"),
]
#: Where docs/leadership.md defines each figure (by the key's prefix).
DOC_ANCHORS = {"arr": "arr", "bridge": "arr", "new": "arr", "expansion": "arr",
               "reactivation": "arr", "contraction": "arr", "churn": "arr",
               "fx_adjustment": "arr", "net_new": "arr", "nrr": "nrr", "grr": "nrr",
               "logo_churn_rate": "nrr", "logos_churned": "logos-churned",
               "health_bands": "health", "health_movement": "health", "forecast": "forecast",
               "ops": "operations", "quality": "quality"}
MOVEMENT_LABELS = {"new": "New", "expansion": "Expansion", "reactivation": "Reactivation",
                   "contraction": "Contraction", "churn": "Churn", "fx_adjustment": "FX"}
SEGMENT_STYLES = 6  # seg-0 … seg-5 in the stylesheet


def percent(value: float | None, digits: int = 1) -> str:
    """A ratio as a percentage: 0.975 → "97.5%"; None → "—"."""
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def signed_money(value: Decimal | float, currency: str | None) -> str:
    """Money with its sign: +$1,200, −$300 (a true minus sign), $0."""
    text = money(abs(value), currency)
    return f"+{text}" if value > 0 else f"−{text}" if value < 0 else text


def accounts_link(**filters: str | None) -> str:
    """The account list with these filters (empty ones left out)."""
    kept = {k: v for k, v in filters.items() if v}
    return "/accounts" + ("?" + urlencode(kept) if kept else "")


def bridge_chart(revenue: Revenue, currency: str | None) -> Markup:
    """The latest month of the company's ARR bridge as a waterfall."""
    b = revenue.latest
    month = b.period_start.strftime("%B %Y")
    steps = [Step("Start", float(b.starting_arr), "total", f"ARR on "
                  f"{b.period_start:%d %b %Y} (the day before): "
                  f"{money(b.starting_arr, currency)}", "#def-bridge", total=True)]
    for key, label in MOVEMENT_LABELS.items():
        value = getattr(b, key)
        kind = ("fx" if key == "fx_adjustment" else "up" if value > 0
                else "down" if value < 0 else "zero")
        steps.append(Step(label, float(value), kind, f"{label} in {month}: "
                          f"{signed_money(value, currency)} ARR", f"#def-{key}"))
    steps.append(Step("End", float(b.ending_arr), "total end", f"ARR on "
                      f"{b.period_end:%d %b %Y}: {money(b.ending_arr, currency)}",
                      "#def-arr", total=True))
    return waterfall_chart(
        steps, label=f"ARR bridge of {month}", axis_text=lambda v: compact_money(v, currency),
        value_text=lambda s: (compact_money(s.value, currency) if s.total
                              else ("+" if s.value > 0 else "−" if s.value < 0 else "")
                              + compact_money(abs(s.value), currency)))


def segment_styles(revenue: Revenue) -> dict[str, str]:
    """A colour per segment, largest first, the same on every chart."""
    return {s.segment: f"seg-{i % SEGMENT_STYLES}" for i, s in enumerate(revenue.segments)}


HALF_WIDTH = 560  # the drawing width of a chart shown in half the page


def _by_month(revenue: Revenue, points: list[Retention],
              figure: str) -> list[tuple[date, float | None]]:
    """A retention figure at every month end of the series (None where nothing was paying a
    year before), so that every line spans the same months."""
    found = {r.period: getattr(r, figure) for r in points}
    return [(m.period_end, found.get(m.period)) for m in revenue.months]


def retention_chart(revenue: Revenue) -> Markup:
    """The company's trailing-12-month NRR and GRR at each month end."""
    return trend_chart(
        [Series("NRR", "nrr", _by_month(revenue, revenue.retention, "nrr")),
         Series("GRR", "grr", _by_month(revenue, revenue.retention, "grr"))],
        label="NRR and GRR over the trailing 12 months, by month end",
        axis_text=lambda v: f"{v * 100:.0f}%",
        point_text=lambda name, d, v: f"{name} over the 12 months to {d:%d %b %Y}: "
                                      f"{v * 100:.1f}%", date_format="%b %y",
        width=HALF_WIDTH)


def segment_nrr_chart(revenue: Revenue) -> Markup:
    """Trailing-12-month NRR of each segment at each month end."""
    styles = segment_styles(revenue)
    return trend_chart(
        [Series(s, styles[s], _by_month(revenue, points, "nrr"))
         for s, points in revenue.segment_retention.items() if s in styles],
        label="NRR over the trailing 12 months by segment",
        axis_text=lambda v: f"{v * 100:.0f}%",
        point_text=lambda name, d, v: f"{name}: NRR {v * 100:.1f}% over the 12 months to "
                                      f"{d:%d %b %Y}", date_format="%b %y", width=HALF_WIDTH)


def logo_churn_chart(revenue: Revenue) -> Markup:
    """Logos churned each month, stacked by segment."""
    styles = segment_styles(revenue)
    columns = []
    for i, month in enumerate(revenue.months):
        stack = [(styles[s.segment], float(revenue.logo_churn[s.segment][i]),
                  f"{s.segment}: {revenue.logo_churn[s.segment][i]} churned in "
                  f"{month.period_start:%B %Y}") for s in revenue.segments]
        columns.append((month.period_start, stack))
    return stacked_bar_chart(columns, label="Logos churned per month by segment",
                             axis_text=lambda v: f"{v:.0f}", date_format="%b %y", height=200)


def definitions_for(day: date | None) -> list[tuple[str, str, str, str, str]]:
    """The definitions with their commands filled in for `day` and where the docs define
    them: (key, label, definition, command, docs page and anchor)."""
    start = series_start(day) if day else None
    return [(k, label, text, command.format(day=day, start=start) if day else "",
             f"docs/leadership.md#{DOC_ANCHORS.get(k, DOC_ANCHORS.get(k.split('_')[0]))}")
            for k, label, text, command in DEFINITIONS]


def page_context(data: Leadership) -> dict[str, Any]:
    """What the template draws besides the figures: charts, links and helpers."""
    revenue = data.revenue
    charts = {}
    if revenue is not None:
        charts = {"bridge": bridge_chart(revenue, data.currency),
                  "retention": retention_chart(revenue),
                  "segment_nrr": segment_nrr_chart(revenue),
                  "logo_churn": logo_churn_chart(revenue)}
    latest = data.published_days[0] if data.published_days else None
    day = data.as_of
    csms = (data.operations or [])[:-1]  # the total row is last
    return {"data": data, "charts": charts, "currency": data.currency,
            "month_to_date": day is not None and revenue is not None
            and revenue.latest.period_end == day and (day + timedelta(days=1)).day != 1,
            "csm_rows": sorted(csms, key=lambda r: (r["utilisation"] is None,
                                                    -(r["utilisation"] or 0), r["group"])),
            "segment_styles": segment_styles(revenue) if revenue else {},
            "definitions": definitions_for(data.as_of), "bands": [*BANDS, NO_SCORE],
            "band_labels": BAND_LABELS, "movement_labels": MOVEMENT_LABELS,
            "lists_are_latest": latest is not None and data.as_of != latest,
            "latest_day": latest, "percent": percent, "signed_money": signed_money,
            "accounts_link": accounts_link}


@router.get("/leadership")
def leadership_page(request: Request, as_of: date | None = Query(
        None, description="A published day (YYYY-MM-DD); the latest by default.")) -> Response:
    """Where the business stands on a published day (the latest by default)."""
    try:
        data = leadership(request.app.state.engine, as_of)
    except DayNotPublished as exc:
        raise HTTPException(404, str(exc)) from exc
    context = page_context(data)
    if data.as_of is not None:  # the banner speaks of the day shown
        context["stale_data"] = data.quality.stale_data
    return render(request, "leadership.html", context)
