"""Accounts as JSON: the list with the page's filters, and one account in full, each with its
health score and churn risk."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel

from quarterdeck.app.account_detail_queries import TIMELINE_GROUPS, AccountDetail360, account_360
from quarterdeck.app.book_queries import account_book
from quarterdeck.app.queries import AccountDetail, AccountFilters, AccountList
from quarterdeck.app.queries import get_account as find_account
from quarterdeck.app.queries import list_accounts as find_accounts
from quarterdeck.reports.store import list_decks

router = APIRouter(tags=["accounts"])


@router.get("/accounts", response_model=AccountList)
def list_accounts(request: Request, filters: AccountFilters = Depends()) -> AccountList:
    """Accounts of the latest published snapshot, filtered, sorted and paginated.

    Money is a decimal string in the workspace base currency (`currency`); ARR = 12 × MRR.
    Each account has its health score and band and its churn probability as published for
    `health_as_of` (sort by `health` or `churn_risk`, filter by `band`); without a score,
    `no_score_reason` says why.
    """
    return find_accounts(request.app.state.engine, filters)


@router.get(
    "/accounts/{account_id:path}",
    response_model=AccountDetail,
    responses={404: {"description": "No such account in the latest snapshot."}},
)
def get_account(request: Request, account_id: str) -> AccountDetail:
    """One account with its parent, children, monthly ARR history, health (score, band,
    changes, reasons, component points) and churn risk (probability, horizon, reasons, model)."""
    account = find_account(request.app.state.engine, account_id)
    if account is None:
        raise HTTPException(404, f"No account {account_id!r} in the latest published snapshot.")
    return account


@router.get(
    "/account_detail/{account_id:path}",
    response_model=AccountDetail360,
    responses={404: {"description": "No such account in the latest snapshot."}},
)
def get_account_detail(
    request: Request, account_id: str,
    timeline_group: str | None = Query(
        None, pattern=f"^({'|'.join(TIMELINE_GROUPS)})$",
        description=f"Only this group of the timeline: {', '.join(TIMELINE_GROUPS)}."),
    timeline_limit: int = Query(200, ge=1, le=1000, description="Newest timeline entries."),
) -> AccountDetail360:
    """The account page's detail: the timeline (what happened in the last 365 days, newest
    first, with the book's alerts, tasks and notes), contacts (champions flagged), subscription
    lines with their MRR and status, opportunities, weekly usage and the health score over the
    published days. Kept for the latest run's day (`as_of`)."""
    engine = request.app.state.engine
    account = find_account(engine, account_id)
    if account is None:
        raise HTTPException(404, f"No account {account_id!r} in the latest published snapshot.")
    detail = account_360(engine, account_id, book=account_book(engine, account_id),
                         base_currency=account.currency, timeline_limit=timeline_limit)
    if timeline_group is not None:
        detail.timeline = [e for e in detail.timeline if e.group == timeline_group]
    return detail


class DeckOut(BaseModel):
    """A kept QBR deck; `url` downloads the .pptx."""

    id: int
    account_id: str
    as_of: date
    created_at: datetime
    created_by: str | None
    size: int
    url: str


@router.get("/qbr_decks", response_model=list[DeckOut])
def qbr_decks(request: Request,
              account_id: str = Query(..., max_length=200, description="The account.")
              ) -> list[DeckOut]:
    """The QBR decks kept for an account (built by `quarterdeck report qbr`), latest first."""
    return [DeckOut(**vars(d), url=f"/qbr-decks/{d.id}")
            for d in list_decks(request.app.state.engine, account_id)]

