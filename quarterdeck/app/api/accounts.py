"""Accounts as JSON: the list with the page's filters, and one account in full, each with its
health score and churn risk."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request

from quarterdeck.app.queries import AccountDetail, AccountFilters, AccountList
from quarterdeck.app.queries import get_account as find_account
from quarterdeck.app.queries import list_accounts as find_accounts

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
