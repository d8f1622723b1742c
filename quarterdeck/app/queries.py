"""What the pages and the API read: accounts from the latest published snapshot, with their
health score and churn risk.

Both the HTML pages and the JSON API call these functions, so a number on a page and in the
API always comes from the same query. Everything reads the app database only. Health and churn
risk are those published on the snapshot's date (or the latest date before it, when the health
publish of that day has not happened), both from the same day.

What depends only on the published day (which accounts a list holds and in what order, its
count and ARR, the filter menus' counts) is computed once per publish and kept in memory
(`quarterdeck.appdb.data_versions.cached`); the rows of the page shown are read each time.
"""

from __future__ import annotations

import math
import sys
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import (
    Engine,
    FromClause,
    RowMapping,
    Select,
    and_,
    bindparam,
    false,
    func,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from quarterdeck.appdb.arr_series import months_of
from quarterdeck.appdb.data_versions import HEALTH, SNAPSHOT, cached
from quarterdeck.appdb.models import (
    AccountArrSeries,
    AccountSnapshot,
    ChurnRisk,
    HealthScore,
    User,
)
from quarterdeck.appdb.publish import latest_as_of

CENT = Decimal("0.01")
PER_PAGE = 50
MAX_PER_PAGE = 500
DEFAULT_SORT = "-arr"
BANDS = ("red", "yellow", "green")
NO_SCORE = "none"  # the band filter's value for accounts without a score
PAYING = "paying"
#: The account list's status filter, in the order of its tabs.
STATUSES = (PAYING, "trial", "prospect", "churned", "all")

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
    "health": HealthScore.score,
    # Ranked by the chance of churning within the window, which puts a renewal next month
    # ahead of one next year at the same odds (the next decision's when no window is known).
    "churn_risk": func.coalesce(ChurnRisk.churn_probability_window,
                                ChurnRisk.churn_probability),
}

# How a health component reads on a page: its label and how its raw value is written
# ("pct": a relative change, "int": a count or days, "num": one decimal, "money": ARR).
COMPONENT_DISPLAY: dict[str, tuple[str, str]] = {
    "active_users_per_seat": ("Weekly active users per seat", "num"),
    "active_users_trend_30d": ("Weekly active users, 30-day trend", "pct"),
    "events_per_seat_30d": ("Events per seat, 30 days", "num"),
    "usage_trend_30d": ("Usage, 30-day trend", "pct"),
    "features_used_30d": ("Features used, 30 days", "int"),
    "days_since_last_event": ("Days since last product use", "int"),
    "tickets_30d": ("Tickets, 30 days", "int"),
    "urgent_tickets_30d": ("Urgent tickets, 30 days", "int"),
    "open_tickets": ("Open tickets", "int"),
    "latest_nps": ("Latest NPS", "int"),
    "csat_90d": ("CSAT, 90 days", "num"),
    "days_since_last_meeting": ("Days since last meeting", "int"),
    "days_since_last_qbr": ("Days since last QBR", "int"),
    "champion_left_90d": ("Champion left, 90 days", "flag"),
    "overdue_invoices": ("Overdue invoices", "int"),
    "days_to_renewal": ("Days to renewal", "int"),
    "mrr_trend_90d": ("MRR, 90-day trend", "pct"),
    "tenure_days": ("Days as a customer", "int"),
    "arr": ("ARR", "money"),
    "term_months": ("Term in months", "int"),
    "events_per_seat_7d": ("Events per seat, 7 days", "num"),
    "usage_trend_7d": ("Usage, 7-day trend", "pct"),
    "usage_trend_14d": ("Usage, 14-day trend", "pct"),
    "active_users_trend_7d": ("Active users, 7-day trend", "pct"),
    "active_users_30d_per_seat": ("Active users per seat, 30 days", "num"),
    "active_days_30d": ("Active days, 30 days", "int"),
    "events_per_active_user_30d": ("Events per active user, 30 days", "num"),
    "features_used_7d": ("Features used, 7 days", "int"),
}


class AccountFilters(BaseModel):
    """Which accounts a list shows: a name search, a segment, an owner, an order and a page."""

    q: str | None = Field(None, description="Part of the account name, any case.")
    segment: str | None = Field(None, description="Only this segment.")
    owner: str | None = Field(None, description="Only accounts owned by this CSM email.")
    band: str | None = Field(
        None, description=f"Only this health band: {', '.join(BANDS)}, or '{NO_SCORE}' for "
        "accounts without a health score."
    )
    status: str = Field(
        PAYING, pattern=f"^({'|'.join(STATUSES)})$",
        description="paying (MRR above zero: the customers `quarterdeck metrics` counts, the "
        "default), trial, prospect, churned (paid before, pays nothing now), or all.",
    )
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
    health_score: float | None = Field(
        None, description="Health score 0–100 by the account's health model; null when none."
    )
    health_band: str | None = Field(None, description="red, yellow or green; null without a score.")
    no_score_reason: str | None = Field(
        None, description="Why the account has no health score, when it has none."
    )
    churn_probability: float | None = Field(
        None, description="Calibrated probability (0–1) of churning at the next renewal decision."
    )
    churn_probability_window: float | None = Field(
        None, description="Probability (0–1) of churning at any renewal decision within the "
        "churn window (90 days by default): the list's churn-risk order."
    )


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
    health_as_of: date | None = Field(
        None, description="The date of the health scores and churn risk shown; null before any."
    )
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


class HealthComponent(BaseModel):
    """One component of a health score: the feature's raw value and the points it earned."""

    feature: str
    label: str = Field(description="The feature in words.")
    kind: str = Field(description="How the value reads: pct, int, num, flag or money.")
    value: float | None = Field(description="The feature's value; null when it has no data.")
    points: float = Field(description="Points 0–100 by the model's rule for this feature.")


class Health(BaseModel):
    """An account's health as published on `as_of`."""

    as_of: date | None = Field(description="The date of the published scores; null before any.")
    model: str | None = Field(description="The health model that scores the account's segment.")
    score: float | None
    band: str | None
    change_7d: float | None = Field(description="Score now minus the score 7 days earlier.")
    change_30d: float | None = Field(description="Score now minus the score 30 days earlier.")
    reasons: list[str] = Field(description="The components pulling the score down most.")
    components: list[HealthComponent] = Field(description="Weakest first.")
    no_score_reason: str | None
    data_warnings: list[str] = Field(
        default_factory=list, description="Inputs of the model's components that were stale "
        "on `as_of` (e.g. a help-desk export that stopped), one sentence each; see the "
        "data-quality report.")


class ChurnRiskDetail(BaseModel):
    """An account's churn risk as published on `as_of`."""

    as_of: date
    churn_probability: float
    horizon: date | None = Field(description="The date of the renewal decision it is about.")
    reasons: list[str] = Field(description="The features pushing the risk up the most.")
    model: str
    model_version: str = Field(description="The model's training date.")


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
    health: Health
    churn_risk: ChurnRiskDetail | None
    no_risk_reason: str | None = Field(description="Why there is no churn risk, when none.")


class Owner(BaseModel):
    """A CSM who owns accounts, with their name when they are a user."""

    email: str
    name: str | None


class FilterOptions(BaseModel):
    """The segments and owners present in a snapshot, and the accounts per health band (with
    `none` for no score), for the filter menus."""

    segments: list[str]
    owners: list[Owner]
    bands: dict[str, int] = Field(default_factory=dict)
    statuses: dict[str, int] = Field(default_factory=dict)


def latest_health_as_of(engine: Engine, as_of: date | None) -> date | None:
    """The latest date with published health scores on or before the snapshot's `as_of`."""
    if as_of is None:
        return None

    def find() -> date | None:
        with engine.connect() as connection:
            return connection.execute(
                select(func.max(HealthScore.as_of)).where(HealthScore.as_of <= as_of)
            ).scalar()

    return cached(engine, ("latest_health_as_of", as_of), (HEALTH,), find)


def published_days(engine: Engine) -> tuple[date | None, date | None]:
    """The latest published snapshot's day and the day of the health scores shown with it."""
    def find() -> tuple[date | None, date | None]:
        as_of = latest_as_of(engine)
        with engine.connect() as connection:
            return as_of, None if as_of is None else connection.execute(
                select(func.max(HealthScore.as_of)).where(HealthScore.as_of <= as_of)
            ).scalar()

    return cached(engine, ("published_days",), (SNAPSHOT, HEALTH), find)


def no_score_reason(
    health_as_of: date | None, published: bool, model: str | None, segment: str | None
) -> str:
    """Why an account has no health score, in words, from what was published about it."""
    if health_as_of is None:
        return "nothing has been published for health yet"
    if not published:
        # Health scores cover the accounts paying on the date.
        return f"not a paying account on {health_as_of.isoformat()}"
    if model is None:
        return f"no health model for segment {segment or '(none)'}"
    return f"too little data for the {model} health model"


def list_accounts(engine: Engine, filters: AccountFilters) -> AccountList:
    """The accounts of the latest snapshot that match `filters`, one page of them, sorted."""
    as_of, health_as_of = published_days(engine)
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
    # The published day is part of the data's versions, so not of the keys: a new day
    # replaces the results of the one before instead of adding to them.
    key = ("accounts", filters.status, filters.segment, filters.owner, filters.band, sort)
    ids, total_arr, currency = cached(engine, key, (SNAPSHOT, HEALTH), lambda: _matching(
        engine, as_of, health_as_of, filters, sort))
    day = _day_rows(engine, as_of, health_as_of)
    if filters.q and filters.q.strip():
        ids, total_arr, currency = _searched(ids, day, filters.q.strip())
    total = len(ids)
    pages = max(1, math.ceil(total / filters.per_page))
    page = min(filters.page, pages)
    shown = ids[(page - 1) * filters.per_page:page * filters.per_page]
    names = user_names(engine) if shown else {}
    return AccountList(
        as_of=as_of,
        currency=currency,
        total=total,
        total_arr=Decimal(total_arr).quantize(CENT),
        page=page,
        per_page=filters.per_page,
        pages=pages,
        sort=sort,
        health_as_of=health_as_of,
        accounts=[_summary(_named(day.rows[i], names), health_as_of) for i in shown],
    )


class _Day:
    """The account list's row of every account of a published day (owners named as the
    snapshot names them), and each account's name in lower case for the search box."""

    def __init__(self, rows: dict[str, dict[str, Any]]) -> None:
        self.rows = rows
        self.lowered = {i: (row["name"] or "").lower() for i, row in rows.items()}


def _day_rows(engine: Engine, as_of: date, health_as_of: date | None) -> _Day:
    def read() -> _Day:
        with engine.connect() as connection:
            return _Day({sys.intern(row["account_id"]): dict(row) for row in connection.execute(
                _summary_select(_with_health(health_as_of))
                .where(AccountSnapshot.as_of == as_of)).mappings()})

    return cached(engine, ("account_rows",), (SNAPSHOT, HEALTH), read)


def _matching(engine: Engine, as_of: date, health_as_of: date | None, filters: AccountFilters,
              sort: str) -> tuple[tuple[str, ...], Decimal | float | int, str | None]:
    """Every account matching `filters` but the search, by id in the list's order, their
    total ARR and currency: what a page of the list is cut from."""
    joined = _with_health(health_as_of)
    conditions = _conditions(as_of, filters.model_copy(update={"q": None}))
    with engine.connect() as connection:
        _, total_arr, currency = connection.execute(
            select(
                func.count(),
                func.coalesce(func.sum(AccountSnapshot.arr), 0),
                func.min(AccountSnapshot.currency),
            )
            .select_from(joined)
            .where(*conditions)
        ).one()
        ids = connection.scalars(
            select(AccountSnapshot.account_id).select_from(joined).where(*conditions)
            .order_by(*_order(sort))
        ).all()
    # Interned: the lists kept for other filters and orders share the same strings.
    return tuple(sys.intern(i) for i in ids), total_arr, currency


def _searched(ids: tuple[str, ...], day: _Day,
              term: str) -> tuple[tuple[str, ...], Decimal | int, str | None]:
    """The accounts of `ids` whose name holds `term` in any case, in the same order, their
    total ARR and currency. Matched in memory against the day's names: a search is typed
    once and rarely repeated, and a scan of every name in the database costs far more."""
    if len(term) > AccountSnapshot.name.type.length:
        return (), 0, None  # no name is that long
    wanted = term.lower()
    found = tuple(i for i in ids if wanted in day.lowered[i])
    rows = [day.rows[i] for i in found]
    return (found, sum((row["arr"] for row in rows), Decimal(0)),
            min((row["currency"] for row in rows), default=None))


def user_names(engine: Engine) -> dict[str, str]:
    """Every user's name by email: owners are named as their user account is named now."""
    with engine.connect() as connection:
        return dict(connection.execute(select(User.email, User.name)).all())


def _named(row: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """A copy of a kept row with its owner named by their user account, when they have one."""
    named = dict(row)
    if row["owner_email"] in names:
        named["owner_name"] = names[row["owner_email"]]
    return named


def get_account(engine: Engine, account_id: str) -> AccountDetail | None:
    """One account of the latest snapshot with its hierarchy, monthly ARR, health and churn
    risk, or None."""
    as_of, health_as_of = published_days(engine)
    if as_of is None:
        return None
    given = {"as_of": as_of, "health_as_of": health_as_of, "account_id": account_id}
    with engine.connect() as connection:
        row = connection.execute(_ACCOUNT, given).mappings().first()
        if row is None:
            return None
        parent = connection.execute(_REF, {**given, "ref": row["parent_account_id"]}).mappings(
        ).first() if row["parent_account_id"] else None
        children = connection.execute(_CHILDREN, given).mappings().all()
        packed = connection.execute(_ARR_HISTORY, given).scalar()
        history = [] if packed is None else months_of(packed)
        score = connection.execute(_SCORE, given).mappings().first()
        risk = connection.execute(_RISK, given).mappings().first()
    any_risk = risk is not None or _any_risk(engine, health_as_of)
    health = _health(score, health_as_of, row["segment"])
    no_risk = None
    if risk is None:
        no_risk = (no_score_reason(health_as_of, False, None, None)
                   if health_as_of is None or score is None
                   else f"no churn model for {health_as_of.isoformat()}: too little renewal "
                   "history to learn from" if not any_risk
                   else "not scored by the churn model")
    return AccountDetail.model_validate(
        {
            **row,
            "parent": AccountRef.model_validate(dict(parent)) if parent else None,
            "children": [AccountRef.model_validate(dict(c)) for c in children],
            "arr_history": [ArrPoint(month=month, arr=arr) for month, arr in history],
            "health_score": health.score,
            "health_band": health.band,
            "no_score_reason": health.no_score_reason,
            "churn_probability": risk["churn_probability"] if risk else None,
            "health": health,
            "churn_risk": _churn_risk(risk),
            "no_risk_reason": no_risk,
        }
    )


def _any_risk(engine: Engine, health_as_of: date | None) -> bool:
    """Whether any account has a churn risk published for `health_as_of`."""
    def find() -> bool:
        with engine.connect() as connection:
            return connection.execute(select(ChurnRisk.account_id).where(
                ChurnRisk.as_of == health_as_of).limit(1)).first() is not None

    return cached(engine, ("any_churn_risk", health_as_of), (HEALTH,), find)


# The account page's statements, built once and run with each account's values.
_S = AccountSnapshot
_ACCOUNT = (select(*(c for c in _S.__table__.c if c.name != "owner_name"),
                   func.coalesce(User.name, _S.owner_name).label("owner_name"))
            .outerjoin(User, User.email == _S.owner_email)
            .where(_S.as_of == bindparam("as_of"), _S.account_id == bindparam("account_id")))
_REF = select(_S.account_id, _S.name, _S.arr).where(_S.as_of == bindparam("as_of"),
                                                     _S.account_id == bindparam("ref"))
_CHILDREN = (select(_S.account_id, _S.name, _S.arr)
             .where(_S.as_of == bindparam("as_of"),
                    _S.parent_account_id == bindparam("account_id"))
             .order_by(_S.arr.desc(), _S.name))
_ARR_HISTORY = select(AccountArrSeries.months).where(
    AccountArrSeries.as_of == bindparam("as_of"),
    AccountArrSeries.account_id == bindparam("account_id"))
_SCORE = select(HealthScore.__table__).where(HealthScore.as_of == bindparam("health_as_of"),
                                             HealthScore.account_id == bindparam("account_id"))
_RISK = select(ChurnRisk.__table__).where(ChurnRisk.as_of == bindparam("health_as_of"),
                                          ChurnRisk.account_id == bindparam("account_id"))


def filter_options(engine: Engine, as_of: date | None, status: str = "all") -> FilterOptions:
    """The distinct segments and owners of the snapshot of `as_of`, alphabetically, how many
    accounts each status tab holds, and how many of the `status` tab are in each health band.
    Owners are named as their user account is named now, else as the team file named them."""
    if as_of is None:
        return FilterOptions(segments=[], owners=[])
    health_as_of = latest_health_as_of(engine, as_of)
    segments, owners, bands, statuses = cached(
        engine, ("filter_options", as_of, health_as_of, status), (SNAPSHOT, HEALTH),
        lambda: _options(engine, as_of, health_as_of, status))
    names = user_names(engine) if owners else {}
    named = {(email, names[email] if email in names else name) for email, name in owners}
    listed = sorted((Owner(email=email, name=name) for email, name in named),
                    key=lambda o: (o.name or o.email).lower())
    return FilterOptions(segments=list(segments), owners=listed, bands=dict(bands),
                         statuses=dict(statuses))


def _options(engine: Engine, as_of: date, health_as_of: date | None, status: str) -> tuple[
        tuple[str, ...], tuple[tuple[str, str | None], ...], dict[str, int], dict[str, int]]:
    """What the filter menus of a published day show: segments, owners (email and the name
    the snapshot gives), accounts per band of the `status` tab and accounts per tab."""
    on_day = AccountSnapshot.as_of == as_of
    by_status = _status_condition(status)
    published = on_day if by_status is None else and_(on_day, by_status)
    with engine.connect() as connection:
        segments = connection.scalars(
            select(AccountSnapshot.segment)
            .where(published, AccountSnapshot.segment.is_not(None))
            .distinct()
            .order_by(AccountSnapshot.segment)
        ).all()
        owners = connection.execute(
            select(AccountSnapshot.owner_email, AccountSnapshot.owner_name)
            .where(published, AccountSnapshot.owner_email.is_not(None))
            .distinct()
        ).all()
        per_band = connection.execute(
            select(HealthScore.band, func.count())
            .select_from(_with_health(health_as_of))
            .where(published, HealthScore.score.is_not(None))
            .group_by(HealthScore.band)
        ).all()
        total = connection.execute(select(func.count()).where(published)).scalar() or 0
        statuses = {name: connection.execute(select(func.count()).where(
            *(c for c in (on_day, _status_condition(name)) if c is not None))).scalar() or 0
            for name in STATUSES}
    counts = {band: count for band, count in per_band if band in BANDS}
    bands = {band: counts.get(band, 0) for band in BANDS}
    bands[NO_SCORE] = total - sum(counts.values())
    return (tuple(segments), tuple((email, name) for email, name in owners), bands, statuses)


def _with_health(health_as_of: date | None) -> FromClause:
    """Snapshot rows joined with their health score and churn risk of `health_as_of`."""
    s = AccountSnapshot
    return s.__table__.outerjoin(
        HealthScore.__table__,
        and_(HealthScore.account_id == s.account_id, HealthScore.as_of == health_as_of),
    ).outerjoin(
        ChurnRisk.__table__,
        and_(ChurnRisk.account_id == s.account_id, ChurnRisk.as_of == health_as_of),
    )


def _summary_select(joined: FromClause) -> Select[tuple[object, ...]]:
    s = AccountSnapshot
    return select(
        s.account_id,
        s.name,
        s.segment,
        s.tier,
        s.owner_email,
        s.owner_name,
        s.arr,
        s.currency,
        s.status,
        s.renewal_date,
        s.open_tickets,
        HealthScore.account_id.is_not(None).label("health_published"),
        HealthScore.model.label("health_model"),
        HealthScore.score.label("health_score"),
        HealthScore.band.label("health_band"),
        ChurnRisk.churn_probability,
        ChurnRisk.churn_probability_window,
    ).select_from(joined)


def _summary(row: dict[str, Any], health_as_of: date | None) -> AccountSummary:
    published, model = row.pop("health_published"), row.pop("health_model")
    if row["health_score"] is None:
        row["health_band"] = None
        row["no_score_reason"] = no_score_reason(health_as_of, bool(published), model,
                                                 row["segment"])
    return AccountSummary.model_validate(row)


def _health(score: RowMapping | None, health_as_of: date | None,
            segment: str | None) -> Health:
    if score is None:
        return Health(as_of=health_as_of, model=None, score=None, band=None, change_7d=None,
                      change_30d=None, reasons=[], components=[],
                      no_score_reason=no_score_reason(health_as_of, False, None, segment))
    components = [
        HealthComponent(feature=feature, label=COMPONENT_DISPLAY.get(feature, (feature, ""))[0],
                        kind=COMPONENT_DISPLAY.get(feature, ("", "num"))[1],
                        value=parts.get("value"), points=parts["points"])
        for feature, parts in (score["components"] or {}).items()
        # A feature without points belongs to another model's components.
        if parts.get("points") is not None
    ]
    components.sort(key=lambda c: (c.points, c.label))
    has_score = score["score"] is not None
    return Health.model_validate({
        **score,
        "band": score["band"] if has_score else None,
        "reasons": list(score["reasons"] or []),
        "components": components,
        "data_warnings": (score["data_warnings"] or "").splitlines(),
        "no_score_reason": None if has_score
        else no_score_reason(health_as_of, True, score["model"], segment),
    })


def _churn_risk(risk: RowMapping | None) -> ChurnRiskDetail | None:
    if risk is None:
        return None
    return ChurnRiskDetail.model_validate({**risk, "reasons": list(risk["reasons"] or [])})


def _status_condition(status: str) -> ColumnElement[bool] | None:
    """Which accounts a status tab holds: paying is MRR above zero, whatever the status says."""
    if status == PAYING:
        return AccountSnapshot.mrr > 0
    if status == "all":
        return None
    return and_(AccountSnapshot.status == status, AccountSnapshot.mrr <= 0)


def _conditions(as_of: date, filters: AccountFilters) -> list[ColumnElement[bool]]:
    conditions = [AccountSnapshot.as_of == as_of]
    if (by_status := _status_condition(filters.status)) is not None:
        conditions.append(by_status)
    if filters.q and filters.q.strip():
        term = filters.q.strip()
        if len(term) > AccountSnapshot.name.type.length:
            # No name is that long, and SQLite refuses LIKE patterns over 50,000 bytes.
            conditions.append(false())
        else:
            # autoescape: a "%" or "_" typed in the search box matches itself.
            conditions.append(AccountSnapshot.name.icontains(term, autoescape=True))
    if filters.segment:
        conditions.append(AccountSnapshot.segment == filters.segment)
    if filters.owner:
        conditions.append(AccountSnapshot.owner_email == filters.owner)
    if filters.band == NO_SCORE:
        conditions.append(HealthScore.score.is_(None))
    elif filters.band:
        conditions.append(and_(HealthScore.band == filters.band, HealthScore.score.is_not(None)))
    return conditions


def _order(sort: str) -> list[ColumnElement[object]]:
    column = SORT_COLUMNS[sort.lstrip("-")]
    primary = column.desc() if sort.startswith("-") else column.asc()
    # Empty values last in either direction (PostgreSQL would put them first when descending),
    # then name and id so pages never overlap.
    return [primary.nulls_last(), AccountSnapshot.name, AccountSnapshot.account_id]
