"""A hand-made weekly report and QBR, small enough to check by eye, for renderer and delivery
tests that need no warehouse."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from quarterdeck.reports.qbr import Qbr, QbrTask, SupportSummary
from quarterdeck.reports.weekly_report import (
    Action,
    AlertCount,
    BridgePeriod,
    OpsLine,
    Retention,
    WeeklyReport,
)

D = Decimal


def bridge(period: str, start: date, end: date) -> BridgePeriod:
    return BridgePeriod(period=period, period_start=start, period_end=end,
                        starting_arr=D("1000000"), new=D("60000"), expansion=D("24000"),
                        contraction=D("-6000"), churn=D("-18000"), reactivation=D("0"),
                        fx_adjustment=D("-120"), ending_arr=D("1059880"), starting_customers=40,
                        new_customers=3, churned_customers=1, ending_customers=42)


def action(owner: str, account: str, priority: str) -> Action:
    return Action(owner_email=owner, account_id=account, account_name=f"Account {account}",
                  title=f"Call the champion of Account {account}",
                  evidence=["usage down 45%", "renewal in 42 days"], arr_at_stake=D("180000"),
                  risk=0.4, risk_source="churn_probability_window", priority=D(priority),
                  url=f"http://qd.example/accounts/{account}")


@pytest.fixture
def small_report() -> WeeklyReport:
    return WeeklyReport(
        company="Test Co", as_of=date(2026, 9, 30), currency="USD",
        week=bridge("2026-W40", date(2026, 9, 28), date(2026, 9, 30)),
        quarter=bridge("2026-Q3", date(2026, 7, 1), date(2026, 9, 30)),
        retention=Retention(window_start=date(2025, 9, 30), cohort_customers=40, nrr=1.02,
                            grr=0.93, logo_churn=0.05, revenue_churn=0.04, target_nrr=1.05,
                            target_grr=0.9),
        health_moves=[], renewals_decided=[], renewals_due=[],
        alerts=[AlertCount(signal="usage_drop", kind="change", severity="high",
                           description="Usage down", count=2, open=1)],
        ops=[OpsLine(group="total", accounts=42, arr=D("1059880"), utilisation=0.9,
                     capacity_flag="ok", overdue_tasks=3, playbook_execution_rate=0.7,
                     onboarding_completion_rate=0.8, qbr_coverage=0.5)],
        quality=[],
        actions=[action("ana@example.com", "a1", "72000"), action("ben@example.com", "b1",
                                                                 "90000"),
                 action("ana@example.com", "a2", "1000")])


@pytest.fixture
def small_qbr() -> Qbr:
    return Qbr(account_id="a1", name="Acme", as_of=date(2026, 9, 30), currency="USD",
               owner_email="ana@example.com", owner_name="Ana", segment="Enterprise",
               arr=D("180000"), customer_since=date(2024, 1, 1), renewal_date=date(2026, 11, 11),
               stage="renewal", onboarding_complete=True, time_to_value_days=30,
               milestones=[(date(2024, 2, 1), "Go-live")],
               arr_by_month=[(date(2026, 7, 31), D("180000")), (date(2026, 8, 31), D("180000"))],
               usage_by_month=[(date(2026, 8, 1), 900), (date(2026, 9, 1), 500)],
               active_users_30d=40,
               support=SupportSummary(tickets_90d=4, open_tickets=1, median_hours_to_solve=5.5,
                                      csat_average=4.5, latest_nps=8),
               health_score=41.0, health_band="red", health_reasons=["usage fell 45%"],
               churn_probability_window=0.4, churn_window_days=90,
               churn_reasons=["usage trend raises the risk"], live_alerts=["Usage down"],
               open_tasks=[QbrTask(title="Call the sponsor", owner_email="ana@example.com",
                                   due_on=date(2026, 10, 3), status="open",
                                   playbook="risk_recovery")])
