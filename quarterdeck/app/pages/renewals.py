"""The renewals page: the quarter's renewal forecast at a glance (ARR at stake, expected
renewed ARR with its 90% interval, committed ARR, expected gross renewal rate) and every
renewal due in the horizon, soonest first, where a CSM makes their call.

It reads `quarterdeck.app.renewal_queries`, as `/api/renewals` does; the call form changes
through the API's own function (`quarterdeck.app.api.renewals.call_renewal`), with the same
permission checks, and comes back to the page it was sent from.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response

from quarterdeck.app.api.book import owners_for
from quarterdeck.app.api.renewals import CategoryIn, call_renewal
from quarterdeck.app.auth import current_user, safe_next
from quarterdeck.app.pages.accounts import BAND_LABELS, probability
from quarterdeck.app.permissions import may_change_account
from quarterdeck.app.rendering import render
from quarterdeck.app.renewal_queries import (
    CATEGORY_LABELS,
    DEFAULT_HORIZON_DAYS,
    NO_CALL,
    PER_PAGE,
    PeriodForecast,
    RenewalFilters,
    filter_options,
    parse_period,
    renewal_periods,
    renewals,
)
from quarterdeck.appdb.operations_models import TeamMember
from quarterdeck.forecast.renewal_forecast import PUBLISHED_HORIZON_DAYS
from quarterdeck.metrics.periods import period_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_user)])
#: Everyone's renewals, whatever the signed-in person's default.
ALL = "all"
EXPORT = ("quarterdeck export forecast_periods --as-of {day} --grain quarter "
          f"--horizon {PUBLISHED_HORIZON_DAYS}")
#: The page's figures: key (anchor #def-<key>), label, definition (as in docs/forecast.md).
DEFINITIONS = [
    ("arr_at_stake", "ARR at stake", "Σ the ARR of every renewal decision due in the quarter "
     "after the forecast's day, in the base currency, the day before each decision (a monthly "
     "account counts once per monthly decision)."),
    ("expected_arr", "Expected renewed ARR", "Σ ARR at stake × P(reached) × P(renew): the ARR "
     "expected back. The 90% interval is the 5th to 95th percentile of renewed ARR when each "
     "account renews or churns independently, computed exactly."),
    ("committed_arr", "Committed ARR", "Σ ARR at stake of the renewals their CSM calls "
     "commit, from the calls in force now; best case adds those called best case."),
    ("grr", "Expected gross renewal rate", "Expected renewed ARR, each decision capped at "
     "its ARR at stake by the gross factor of its kind of term (what renewals kept over the "
     "past year), ÷ ARR expected at stake."),
    ("p_renew", "P(renew)", "The probability the renewal renews if it is reached, from the "
     "churn model of the horizon nearest the decision; 0 when a cancellation is known."),
    ("category", "Call", "The CSM's call: commit, best case, at risk or churn expected, with a "
     "note; every change is kept with who, when, before and after, and in the audit log."),
]


def _managers(request: Request) -> dict[str, str | None]:
    with request.app.state.engine.connect() as conn:
        return {e.lower(): m for e, m in conn.execute(
            select(TeamMember.email, TeamMember.manager_email))}


def header_period(day: date, period: str | None) -> str:
    """The quarter the page's figures are for: the one asked for, else the one holding the
    day after the forecast's day (the first renewals it forecasts)."""
    if period and parse_period(period).grain == "quarter":
        return period
    return period_of(day + timedelta(days=1), "quarter").label


@router.get("/renewals")
def renewals_page(
    request: Request,
    as_of: date | None = Query(None, description="A published day; the latest by default."),
    horizon: int | None = Query(None, ge=1, le=PUBLISHED_HORIZON_DAYS),
    owner: str | None = Query(None, max_length=320, description="A CSM's email, or 'all'."),
    segment: str | None = Query(None, max_length=100),
    category: str | None = Query(None, max_length=20),
    period: str | None = Query(None, max_length=10),
    page: int = Query(1, ge=1, le=100_000),
) -> Response:
    """The renewals due in the horizon (120 days) by date, with the quarter's forecast."""
    engine = request.app.state.engine
    user = request.state.user
    owners = None if owner == ALL else owners_for(engine, user, owner)
    filters = RenewalFilters(as_of=as_of, horizon=horizon, owner=None, segment=segment or None,
                             category=category or None, period=period or None,
                             limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    result = renewals(engine, filters, owners)
    day = result.as_of
    quarters = renewal_periods(engine, day, grain="quarter").periods if day else []
    shown = header_period(day, filters.period) if day else None
    header: PeriodForecast | None = next((q for q in quarters if q.period == shown), None)
    managers = _managers(request)
    may_call = {r.renewal_id: may_change_account(user, r.owner_email, managers.get(
        (r.owner_email or "").lower())) for r in result.renewals}

    def link(**changes: Any) -> str:
        """This page's URL with some parameters changed (empty ones left out)."""
        params = {"as_of": as_of, "horizon": horizon, "owner": owner, "segment": segment,
                  "category": category, "period": period, "page": page, **changes}
        if params["page"] == 1:
            params["page"] = None
        kept = {k: v for k, v in params.items() if v not in (None, "")}
        return "/renewals" + ("?" + urlencode(kept) if kept else "")

    here = link()
    return render(request, "renewals.html", {
        "result": result, "day": day, "requested": as_of, "quarters": quarters,
        "header": header, "shown_period": shown, "owners": owners, "owner": owner,
        "scoped": owners is not None,
        "filters": filters, "options": filter_options(engine, day), "link": link,
        "here": here, "may_call": may_call, "categories": CATEGORY_LABELS,
        "no_call": NO_CALL, "band_labels": BAND_LABELS, "probability": probability,
        "percent": lambda v: "—" if v is None else f"{v * 100:.1f}%",
        "default_horizon": DEFAULT_HORIZON_DAYS,
        "horizons": sorted({30, 60, 90, DEFAULT_HORIZON_DAYS, PUBLISHED_HORIZON_DAYS,
                            *([horizon] if horizon else [])}),
        "command": EXPORT.format(day=day) if day else "", "definitions": DEFINITIONS,
        "currency": result.currency,
        "pages": max(1, -(-result.total // PER_PAGE)), "page": page})


@router.post("/renewals/{renewal_id:path}/category")
def call_form(request: Request, renewal_id: str,
              category: str = Form("", max_length=40), note: str = Form("", max_length=5000),
              next: str | None = Form(None)) -> Response:  # noqa: A002
    """The call form of a renewal row: set or clear the call, then back to the page."""
    try:
        call_renewal(request, renewal_id, CategoryIn(category=category or None,
                                                     note=note.strip() or None))
    except HTTPException as exc:
        return render(request, "error.html", {"status": exc.status_code,
                                              "message": exc.detail},
                      status_code=exc.status_code)
    return RedirectResponse(safe_next(next, "/renewals"), status_code=303)
