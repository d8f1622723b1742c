"""The weekly operating report as data: every section a leader reads, as plain typed values.

The report is built once (`quarterdeck.reports.weekly.build_weekly_report`) and rendered by
any renderer (HTML, PDF, Markdown); it is stored as JSON so a past week renders again
exactly as it was sent. Money is Decimal in the workspace base currency; ARR = 12 × MRR.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field


class BridgePeriod(BaseModel):
    """One period of the ARR bridge (`quarterdeck export mrr_bridge`), in ARR: each MRR
    movement × 12."""

    period: str
    period_start: date
    period_end: date
    starting_arr: Decimal
    new: Decimal
    expansion: Decimal
    contraction: Decimal
    churn: Decimal
    reactivation: Decimal
    fx_adjustment: Decimal
    ending_arr: Decimal
    starting_customers: int
    new_customers: int
    churned_customers: int
    ending_customers: int


class Retention(BaseModel):
    """Trailing-12-month cohort retention (`quarterdeck export retention --window 12`) against
    the workspace targets."""

    window_start: date
    cohort_customers: int
    nrr: float | None
    grr: float | None
    logo_churn: float | None
    revenue_churn: float | None
    target_nrr: float
    target_grr: float


class ComponentMove(BaseModel):
    """A health component whose points changed between the two dates."""

    component: str
    points_before: float | None
    points_now: float | None


class HealthMove(BaseModel):
    """An account whose health band changed in the week (`quarterdeck export health_scores`
    of the date and of seven days earlier)."""

    account_id: str
    name: str
    owner_email: str | None
    arr: Decimal
    band_before: str
    band_now: str
    score_before: float | None
    score_now: float | None
    components: list[ComponentMove]


class RenewalDecided(BaseModel):
    """A renewal decision that became known in the week (`renewal_outcomes`)."""

    account_id: str
    name: str
    owner_email: str | None
    decision_date: date
    arr_at_stake: Decimal
    arr_after: Decimal
    result: str  # renewed, contracted, churned


class ForecastLine(BaseModel):
    """The renewal forecast for one renewal, when a forecast is given."""

    probability: float
    expected_arr: Decimal
    low_arr: Decimal | None = None
    high_arr: Decimal | None = None


class RenewalDue(BaseModel):
    """A paying account whose renewal date falls in the next 90 days (`account_snapshots`)."""

    account_id: str
    name: str
    owner_email: str | None
    renewal_date: date
    days_to_renewal: int
    arr: Decimal
    band: str | None
    churn_probability_window: float | None
    forecast: ForecastLine | None = None


class ForecastTotal(BaseModel):
    """Expected renewal ARR of the renewals due, with its interval."""

    expected_arr: Decimal
    low_arr: Decimal | None
    high_arr: Decimal | None


class AlertCount(BaseModel):
    """Alerts of one signal fired in the week (`quarterdeck export alerts`)."""

    signal: str
    kind: str
    severity: str
    description: str
    count: int
    open: int


class OpsLine(BaseModel):
    """One CSM's operations metrics (`quarterdeck ops --by csm`), or the total."""

    group: str
    accounts: int
    arr: Decimal
    utilisation: float | None
    capacity_flag: str | None
    overdue_tasks: int
    playbook_execution_rate: float | None
    onboarding_completion_rate: float | None
    qbr_coverage: float | None


class QualityWarning(BaseModel):
    """A data-quality check not ok on the date, and the report sections its entity feeds."""

    source: str
    entity: str
    check: str
    field: str
    status: str
    detail: str
    affects: list[str]


class Action(BaseModel):
    """A next best action: what to do, for which account, why, and what is at stake.
    `priority` = arr_at_stake × risk."""

    owner_email: str | None
    account_id: str
    account_name: str
    title: str
    evidence: list[str]
    arr_at_stake: Decimal
    risk: float
    risk_source: str  # churn_probability_window, or health band when no model published
    priority: Decimal
    url: str


class WeeklyReport(BaseModel):
    """The weekly operating report of `as_of` (see docs/reports.md)."""

    company: str
    as_of: date
    currency: str
    week: BridgePeriod
    quarter: BridgePeriod
    retention: Retention
    health_moves: list[HealthMove]
    renewals_decided: list[RenewalDecided]
    renewals_due: list[RenewalDue]
    forecast_total: ForecastTotal | None = None
    alerts: list[AlertCount]
    ops: list[OpsLine]
    quality: list[QualityWarning]
    actions: list[Action]
    notes: list[str] = Field(default_factory=list)

    def actions_by_owner(self, first: str | None = None) -> list[tuple[str, list[Action]]]:
        """Actions grouped by owner, owners by their top priority; `first`'s own come first."""
        groups: dict[str, list[Action]] = {}
        for action in sorted(self.actions, key=lambda a: a.priority, reverse=True):
            groups.setdefault(action.owner_email or "(unowned)", []).append(action)
        order = sorted(groups, key=lambda o: (o != first, -groups[o][0].priority))
        return [(owner, groups[owner]) for owner in order]
