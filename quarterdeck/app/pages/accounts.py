"""The account list and the account page."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from quarterdeck.app.auth import current_user
from quarterdeck.app.queries import (
    DEFAULT_SORT,
    PER_PAGE,
    AccountFilters,
    filter_options,
    get_account,
    list_accounts,
)
from quarterdeck.app.rendering import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_user)])


@router.get("/")
def home() -> Response:
    """The account list is the home page."""
    return RedirectResponse("/accounts", status_code=303)


@router.get("/accounts")
def accounts_page(request: Request, filters: AccountFilters = Depends()) -> Response:
    """Accounts of the latest snapshot: search, filter by segment and owner, sort, paginate."""
    engine = request.app.state.engine
    result = list_accounts(engine, filters)

    def link(**changes: object) -> str:
        """This page's URL with some parameters changed (empty ones left out)."""
        params = {
            "q": filters.q,
            "segment": filters.segment,
            "owner": filters.owner,
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
            "filtered": bool(filters.q or filters.segment or filters.owner),
            "link": link,
            "sort_link": sort_link,
        },
    )


@router.get("/accounts/{account_id:path}")
def account_page(request: Request, account_id: str) -> Response:
    """One account: key facts, ARR trend, usage, support and its place in the hierarchy."""
    account = get_account(request.app.state.engine, account_id)
    if account is None:
        raise HTTPException(404, f"No account {account_id!r} in the latest published snapshot.")
    points = [(p.month, p.arr) for p in account.arr_history]
    return render(request, "account.html", {"account": account, "points": points})
