"""What the pages and the API read: accounts from the latest published snapshot.

Both the HTML pages and the JSON API call these functions, so a number on a page and in the
API always comes from the same query. Everything reads the app database only.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field
from sqlalchemy import Engine, Select, func, select
from sqlalchemy.sql.elements import ColumnElement

from quarterdeck.appdb.models import AccountArrHistory, AccountSnapshot, User
from quarterdeck.appdb.publish import latest_as_of

CENT = Decimal("0.01")
PER_PAGE = 50
MAX_PER_PAGE = 500
DEFAULT_SORT = "-arr"

# The columns a list can be sorted by, by the name used in URLs (prefix "-" for descending).
SORT_COLUMNS: dict[str, ColumnElement[object]] = {
    "name": AccountSnapshot.name,
    "segment": AccountSnapshot.segment,
    "tier": AccountSnapshot.tier,
    "owner": AccountSnapshot.owner_email,
    "arr": AccountSnapshot.arr,
    "status": AccountSnapshot.status,
    "renewal_date": AccountSnapshot.renewal_date,
    "open_tickets": AccountSnapshot.open_tickets,
}


class AccountFilters(BaseModel):
    """Which accounts a list shows: a name search, a segment, an owner, an order and a page."""

    q: str | None = Field(None, description="Part of the account name, any case.")
    segment: str | None = Field(None, description="Only this segment.")
    owner: str | None = Field(None, description="Only accounts owned by this CSM email.")
    sort: str = Field(
        DEFAULT_SORT,
        description=f"One of {', '.join(SORT_COLUMNS)}; prefix with '-' for descending.",
    )
    page: int = Field(1, ge=1)
    per_page: int = Field(PER_PAGE, ge=1, le=MAX_PER_PAGE)


class AccountSummary(BaseModel):
    """One row of the account list. Money is in `currency`, the workspace base currency."""

    account_id: str
    name: str
    segment: str | None
    tier: str | None
    owner_email: str | None
    owner_name: str | None = Field(None, description="The owner's name when they are a user.")
    arr: Decimal = Field(description="Annual recurring revenue = 12 × MRR, as of `as_of`.")
    currency: str
    status: str | None
    renewal_date: date | None
    open_tickets: int


class AccountList(BaseModel):
    """A page of accounts with the count and total ARR of everything the filters match."""

    as_of: date | None = Field(description="The published snapshot shown; null before any.")
    currency: str | None
    total: int = Field(description="Accounts matching the filters, on all pages.")
    total_arr: Decimal = Field(description="Sum of ARR over all matching accounts.")
    page: int
    per_page: int
    pages: int
    sort: str
    accounts: list[AccountSummary]


class AccountRef(BaseModel):
    """A link to another account (a parent or a child)."""

    account_id: str
    name: str
    arr: Decimal


class ArrPoint(BaseModel):
    """An account's ARR at the end of a month."""

    month: date
    arr: Decimal


class AccountDetail(AccountSummary):
    """Everything published about one account on `as_of`."""

    as_of: date
    domain: str | None
    region: str | None
    country: str | None
    industry: str | None
    parent_account_id: str | None
    mrr: Decimal = Field(description="Monthly recurring revenue in `currency`.")
    customer_since: date | None
    events_30d: int = Field(description="Product events in the 30 days up to `as_of`.")
    active_users_30d: int = Field(description="Distinct active users in the 30 days.")
    tickets_30d: int = Field(description="Support tickets opened in the 30 days.")
    last_activity_at: datetime | None
    parent: AccountRef | None
    children: list[AccountRef]
    arr_history: list[ArrPoint]


class Owner(BaseModel):
    """A CSM who owns accounts, with their name when they are a user."""

    email: str
    name: str | None


class FilterOptions(BaseModel):
    """The segments and owners present in a snapshot, for the filter menus."""

    segments: list[str]
    owners: list[Owner]


def list_accounts(engine: Engine, filters: AccountFilters) -> AccountList:
    """The accounts of the latest snapshot that match `filters`, one page of them, sorted."""
    as_of = latest_as_of(engine)
    sort = filters.sort if filters.sort.lstrip("-") in SORT_COLUMNS else DEFAULT_SORT
    if as_of is None:
        return AccountList(
            as_of=None,
            currency=None,
            total=0,
            total_arr=Decimal(0),
            page=1,
            per_page=filters.per_page,
            pages=1,
            sort=sort,
            accounts=[],
        )
    conditions = _conditions(as_of, filters)
    with engine.connect() as connection:
        total, total_arr, currency = connection.execute(
            select(
                func.count(),
                func.coalesce(func.sum(AccountSnapshot.arr), 0),
                func.min(AccountSnapshot.currency),
            ).where(*conditions)
        ).one()
        pages = max(1, math.ceil(total / filters.per_page))
        page = min(filters.page, pages)
        query = (
            _summary_select()
            .where(*conditions)
            .order_by(*_order(sort))
            .limit(filters.per_page)
            .offset((page - 1) * filters.per_page)
        )
        rows = connection.execute(query).mappings().all()
    return AccountList(
        as_of=as_of,
        currency=currency,
        total=total,
        total_arr=Decimal(total_arr).quantize(CENT),
        page=page,
        per_page=filters.per_page,
        pages=pages,
        sort=sort,
        accounts=[AccountSummary.model_validate(dict(row)) for row in rows],
    )


def get_account(engine: Engine, account_id: str) -> AccountDetail | None:
    """One account of the latest snapshot with its hierarchy and monthly ARR, or None."""
    as_of = latest_as_of(engine)
    if as_of is None:
        return None
    snapshot = AccountSnapshot
    with engine.connect() as connection:
        row = (
            connection.execute(
                select(*(c for c in snapshot.__table__.c if c.name != "owner_name"),
                       func.coalesce(User.name, snapshot.owner_name).label("owner_name"))
                .outerjoin(User, User.email == snapshot.owner_email)
                .where(snapshot.as_of == as_of, snapshot.account_id == account_id)
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        refs = select(snapshot.account_id, snapshot.name, snapshot.arr).where(
            snapshot.as_of == as_of
        )
        parent = None
        if row["parent_account_id"]:
            parent = (
                connection.execute(refs.where(snapshot.account_id == row["parent_account_id"]))
                .mappings()
                .first()
            )
        children = (
            connection.execute(
                refs.where(snapshot.parent_account_id == account_id).order_by(
                    snapshot.arr.desc(), snapshot.name
                )
            )
            .mappings()
            .all()
        )
        history = (
            connection.execute(
                select(AccountArrHistory.month, AccountArrHistory.arr)
                .where(AccountArrHistory.as_of == as_of, AccountArrHistory.account_id == account_id)
                .order_by(AccountArrHistory.month)
            )
            .mappings()
            .all()
        )
    return AccountDetail.model_validate(
        {
            **row,
            "parent": AccountRef.model_validate(dict(parent)) if parent else None,
            "children": [AccountRef.model_validate(dict(c)) for c in children],
            "arr_history": [ArrPoint.model_validate(dict(h)) for h in history],
        }
    )


def filter_options(engine: Engine, as_of: date | None) -> FilterOptions:
    """The distinct segments and owners of the snapshot of `as_of`, alphabetically."""
    if as_of is None:
        return FilterOptions(segments=[], owners=[])
    published = AccountSnapshot.as_of == as_of
    with engine.connect() as connection:
        segments = connection.scalars(
            select(AccountSnapshot.segment)
            .where(published, AccountSnapshot.segment.is_not(None))
            .distinct()
            .order_by(AccountSnapshot.segment)
        ).all()
        owners = (
            connection.execute(
                select(AccountSnapshot.owner_email.label("email"),
                       func.coalesce(User.name, AccountSnapshot.owner_name).label("name"))
                .outerjoin(User, User.email == AccountSnapshot.owner_email)
                .where(published, AccountSnapshot.owner_email.is_not(None))
                .distinct()
            )
            .mappings()
            .all()
        )
    listed = sorted(
        (Owner.model_validate(dict(o)) for o in owners), key=lambda o: (o.name or o.email).lower()
    )
    return FilterOptions(segments=list(segments), owners=listed)


def _summary_select() -> Select[tuple[object, ...]]:
    s = AccountSnapshot
    return select(
        s.account_id,
        s.name,
        s.segment,
        s.tier,
        s.owner_email,
        func.coalesce(User.name, s.owner_name).label("owner_name"),
        s.arr,
        s.currency,
        s.status,
        s.renewal_date,
        s.open_tickets,
    ).outerjoin(User, User.email == s.owner_email)


def _conditions(as_of: date, filters: AccountFilters) -> list[ColumnElement[bool]]:
    conditions = [AccountSnapshot.as_of == as_of]
    if filters.q and filters.q.strip():
        # autoescape: a "%" or "_" typed in the search box matches itself.
        conditions.append(AccountSnapshot.name.icontains(filters.q.strip(), autoescape=True))
    if filters.segment:
        conditions.append(AccountSnapshot.segment == filters.segment)
    if filters.owner:
        conditions.append(AccountSnapshot.owner_email == filters.owner)
    return conditions


def _order(sort: str) -> list[ColumnElement[object]]:
    column = SORT_COLUMNS[sort.lstrip("-")]
    primary = column.desc() if sort.startswith("-") else column.asc()
    # Empty values last in either direction (PostgreSQL would put them first when descending),
    # then name and id so pages never overlap.
    return [primary.nulls_last(), AccountSnapshot.name, AccountSnapshot.account_id]
