"""The account list and the account page."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.responses import Response

from quarterdeck.app.auth import current_user
from quarterdeck.app.formatting import money
from quarterdeck.app.queries import (
    BANDS,
    DEFAULT_SORT,
    NO_SCORE,
    PER_PAGE,
    AccountFilters,
    HealthComponent,
    filter_options,
    get_account,
    list_accounts,
)
from quarterdeck.app.rendering import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_user)])
BAND_LABELS = {"red": "Red", "yellow": "Yellow", "green": "Green", NO_SCORE: "No score"}


def probability(value: float | None) -> str:
    """A probability as a whole percentage: 0.62 → "62%", 0.004 → "<1%"."""
    if value is None:
        return "—"
    if 0 < value < 0.005:
        return "<1%"
    return f"{value * 100:.0f}%"


def signed(value: float | None) -> str:
    """A change of score with its sign: 1.5 → "+1.5", -3 → "−3.0" (a true minus sign)."""
    if value is None:
        return "—"
    return f"{'+' if value > 0 else '−' if value < 0 else '±'}{abs(value):.1f}"


def component_value(component: HealthComponent, currency: str | None) -> str:
    """A health component's raw value as it reads: "−12%", "3", "28.2", "yes", "$48,000"."""
    value = component.value
    if value is None:
        return "no data"
    if component.kind == "pct":
        return f"{'−' if value < 0 else '+' if value > 0 else ''}{abs(value) * 100:.0f}%"
    if component.kind == "int":
        return f"{value:,.0f}"
    if component.kind == "flag":
        return "yes" if value else "no"
    if component.kind == "money":
        return money(value, currency)
    return f"{value:,.1f}"


HELPERS = {"probability": probability, "signed": signed, "component_value": component_value,
           "band_labels": BAND_LABELS}


@router.get("/accounts")
def accounts_page(request: Request, filters: AccountFilters = Depends()) -> Response:
    """Accounts of the latest snapshot with their health and churn risk: search, filter by
    segment, owner and health band, sort, paginate."""
    engine = request.app.state.engine
    result = list_accounts(engine, filters)

    def link(**changes: object) -> str:
        """This page's URL with some parameters changed (empty ones left out)."""
        params = {
            "q": filters.q,
            "segment": filters.segment,
            "owner": filters.owner,
            "band": filters.band,
            "sort": result.sort,
            "page": result.page,
            "per_page": result.per_page,
            **changes,
        }
        if params["sort"] == DEFAULT_SORT:
            params["sort"] = None
        if params["page"] == 1:
            params["page"] = None
        if params["per_page"] == PER_PAGE:
            params["per_page"] = None
        kept = {k: v for k, v in params.items() if v not in (None, "")}
        return "/accounts" + ("?" + urlencode(kept) if kept else "")

    def sort_link(column: str, descending_first: bool = False) -> str:
        """Sort by `column`; clicking the current sort column again reverses it."""
        if result.sort == column:
            return link(sort="-" + column, page=1)
        if result.sort == "-" + column:
            return link(sort=column, page=1)
        return link(sort=("-" if descending_first else "") + column, page=1)

    return render(
        request,
        "accounts.html",
        {
            "result": result,
            "filters": filters,
            "options": filter_options(engine, result.as_of),
            "filtered": bool(filters.q or filters.segment or filters.owner or filters.band),
            "link": link,
            "sort_link": sort_link,
            "bands": [*BANDS, NO_SCORE],
            **HELPERS,
        },
    )


@router.get("/accounts/{account_id:path}")
def account_page(request: Request, account_id: str) -> Response:
    """One account: key facts, health and churn risk, ARR trend, usage, support and its place
    in the hierarchy."""
    account = get_account(request.app.state.engine, account_id)
    if account is None:
        raise HTTPException(404, f"No account {account_id!r} in the latest published snapshot.")
    from quarterdeck.app.book_queries import account_book

    points = [(p.month, p.arr) for p in account.arr_history]
    book = account_book(request.app.state.engine, account_id)
    return render(request, "account.html", {"account": account, "points": points,
                                            "book": book, **HELPERS})
