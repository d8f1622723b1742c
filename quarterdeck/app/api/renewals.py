"""The renewal forecast as JSON: upcoming renewal decisions with their current call, the
forecast by period with its 90% interval, and the CSM's call on a renewal (see
docs/forecast.md).

A call is set through `quarterdeck.appdb.publish_forecast.set_category`, the function
`quarterdeck forecast category set` uses: in the caller's name, kept in the renewal's history
and the audit log, and allowed only on renewals of accounts the caller may change (a CSM their
own, a manager their team's, ops and admin every one; `quarterdeck.app.permissions`).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from quarterdeck.app.permissions import Forbidden, may_change_account
from quarterdeck.app.renewal_queries import (
    PeriodList,
    RenewalFilters,
    RenewalList,
    renewal_owner,
    renewal_periods,
    renewals,
)
from quarterdeck.appdb.models import User
from quarterdeck.appdb.publish_forecast import set_category
from quarterdeck.forecast.renewal_forecast import CATEGORIES

router = APIRouter(tags=["renewals"])


class CategoryIn(BaseModel):
    category: str | None = Field(None, max_length=40, description=(
        f"The call: {', '.join(CATEGORIES)}; null clears it (the history keeps it)."))
    note: str | None = Field(None, max_length=5000, description="Why, in a few words.")


class CategoryChange(BaseModel):
    renewal_id: str
    account_id: str
    before: str | None
    after: str | None
    note: str | None


@router.get("/renewals", response_model=RenewalList)
def list_renewals(request: Request, filters: RenewalFilters = Depends()) -> RenewalList:
    """Upcoming renewal decisions of the published forecast, soonest first, with ARR at
    stake, P(renew), expected ARR, the current call, health band; `total` counts every match."""
    return renewals(request.app.state.engine, filters,
                    [filters.owner] if filters.owner else None)


@router.get("/renewals/periods", response_model=PeriodList)
def list_periods(request: Request, as_of: date | None = None,
                 grain: Literal["quarter", "month"] = "quarter",
                 by: Literal["segment", "owner", "category", "term"] | None = Query(
                     None, description="Break each period down by segment, owner, category "
                     "or term.")) -> PeriodList:
    """The published forecast by calendar quarter or month, with expected renewed ARR and
    its 90% interval; committed and best case from the calls in force. The same figures as
    `quarterdeck export forecast_periods --as-of DAY --grain GRAIN --horizon 180 [--by BY]`."""
    return renewal_periods(request.app.state.engine, as_of, grain=grain, by=by)


def may_call(engine: Engine, user: User, renewal_id: str) -> str:
    """The renewal's account id when `user` may call it; 404 for a renewal never forecast,
    403 when its account is not theirs to change."""
    found = renewal_owner(engine, renewal_id)
    if found is None:
        raise HTTPException(404, f"No renewal {renewal_id!r} in any published forecast "
                            "(its id is account_id@renewal_date).")
    account_id, owner, manager = found
    if not may_change_account(user, owner, manager):
        raise Forbidden(f"You may not call the renewals of {account_id}: it is owned by "
                        f"{owner or 'nobody'}.")
    return account_id


@router.post("/renewals/{renewal_id:path}/category", response_model=CategoryChange,
             responses={400: {"description": "Unknown category."}, 403: {}, 404: {}})
def call_renewal(request: Request, renewal_id: str, body: CategoryIn) -> CategoryChange:
    """Set (or, with a null category, clear) the call on a renewal, with a note: audited."""
    engine = request.app.state.engine
    user: User = request.state.user
    may_call(engine, user, renewal_id)
    change = set_category(engine, renewal_id, body.category or None, actor=user.email,
                          note=body.note or None)
    return CategoryChange(**change, note=body.note or None)
