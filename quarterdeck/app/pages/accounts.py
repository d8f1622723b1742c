"""The account list and the account page."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from markupsafe import Markup
from starlette.responses import Response

from quarterdeck.app.account_detail_queries import (
    TIMELINE_GROUPS,
    HealthPoint,
    UsageWeek,
    account_360,
)
from quarterdeck.app.auth import current_user
from quarterdeck.app.charts import line_chart
from quarterdeck.app.formatting import money
from quarterdeck.app.params import RowId
from quarterdeck.app.queries import (
    BANDS,
    COMPONENT_DISPLAY,
    DEFAULT_SORT,
    NO_SCORE,
    PAYING,
    PER_PAGE,
    AccountFilters,
    HealthComponent,
    filter_options,
    get_account,
    list_accounts,
)
from quarterdeck.app.rendering import render
from quarterdeck.errors import UnknownTableError
from quarterdeck.reports.formatting import chance
from quarterdeck.reports.store import list_decks, load_deck

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_user)])
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
STATUS_LABELS = {PAYING: "Paying customers", "trial": "Trials", "prospect": "Prospects",
                 "churned": "Churned", "all": "All accounts"}
BAND_LABELS = {"red": "Red", "yellow": "Yellow", "green": "Green", NO_SCORE: "No score"}


def probability(value: float | None) -> str:
    """A probability as a whole percentage: 0.62 → "62%", 0.004 → "<1%", 0.998 → ">99%"."""
    return "—" if value is None else chance(value)


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


def component_label(feature: str) -> str:
    """A health component's label as the page shows it."""
    return COMPONENT_DISPLAY.get(feature, (feature.replace("_", " "), ""))[0]


HELPERS = {"probability": probability, "component_label": component_label, "signed": signed,
           "component_value": component_value, "band_labels": BAND_LABELS}


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
            "status": filters.status,
            "sort": result.sort,
            "page": result.page,
            "per_page": result.per_page,
            **changes,
        }
        if params["status"] == PAYING:
            params["status"] = None
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
            "options": filter_options(engine, result.as_of, filters.status),
            "statuses": STATUS_LABELS,
            "filtered": bool(filters.q or filters.segment or filters.owner or filters.band),
            "link": link,
            "sort_link": sort_link,
            "bands": [*BANDS, NO_SCORE],
            **HELPERS,
        },
    )


def usage_chart(weeks: list[UsageWeek]) -> Markup:
    """Average daily active users per week."""
    return line_chart(
        [(w.week_start, w.avg_daily_active_users) for w in weeks],
        label="Average daily active users by week", axis_text=lambda v: f"{v:,.0f}",
        point_text=lambda d, v: f"Week of {d:%d %b %Y}: {float(v):,.1f} daily active users",
        date_format="%d %b")


def health_chart(points: list[HealthPoint]) -> Markup:
    """The health score over the published days."""
    scored = [(p.as_of, p.score) for p in points if p.score is not None]
    return line_chart(
        scored, label="Health score by published day", axis_text=lambda v: f"{v:.0f}",
        point_text=lambda d, v: f"{d:%d %b %Y}: score {float(v):.1f}", date_format="%d %b")


@router.get("/accounts/{account_id:path}")
def account_page(request: Request, account_id: str,
                 timeline: str | None = Query(None, pattern="^(revenue|support|engagement|book)$",
                                              description="Show one group of the timeline.")
                 ) -> Response:
    """One account: key facts, health and churn risk, the timeline, ARR, usage and health over
    time, contacts, subscriptions, opportunities, the book and its place in the hierarchy."""
    engine = request.app.state.engine
    account = get_account(engine, account_id)
    if account is None:
        raise HTTPException(404, f"No account {account_id!r} in the latest published snapshot.")
    from quarterdeck.app.book_queries import account_book

    points = [(p.month, p.arr) for p in account.arr_history]
    book = account_book(engine, account_id)
    detail = account_360(engine, account_id, book=book, base_currency=account.currency)
    decks = list_decks(engine, account_id)
    entries = [e for e in detail.timeline if timeline is None or e.group == timeline]
    return render(request, "account.html", {
        "account": account, "points": points, "book": book, "detail": detail,
        "timeline": entries, "timeline_group": timeline, "groups": list(TIMELINE_GROUPS),
        "decks": decks,
        "usage_chart": usage_chart, "health_chart": health_chart, **HELPERS})


@router.get("/qbr-decks/{deck_id}")
def qbr_deck(request: Request, deck_id: RowId) -> Response:
    """A kept QBR deck, downloaded as its .pptx file."""
    try:
        deck, content = load_deck(request.app.state.engine, deck_id)
    except UnknownTableError:
        raise HTTPException(404, f"No QBR deck {deck_id}.") from None
    name = f"qbr-{deck.account_id}-{deck.as_of.isoformat()}.pptx"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return Response(content, media_type=PPTX,
                    headers={"Content-Disposition": f'attachment; filename="{safe}"'})

