"""Next best actions on hand-made accounts: who needs one, its title and evidence, and the
ranking by ARR at stake × risk (the example of docs/reports.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from quarterdeck.reports.definitions import ReportDefinitions
from quarterdeck.reports.next_best_actions import AccountBook, action_for, rank_actions

AS_OF = date(2026, 9, 30)
DEFS = ReportDefinitions(account_url="https://qd.example/accounts/{account_id}")


def account(account_id: str, arr: int, *, renewal: date | None = None, owner: str = "ana@x.io",
            status: str = "active") -> dict:
    return {"account_id": account_id, "name": account_id.title(), "arr": Decimal(arr),
            "renewal_date": renewal, "owner_email": owner, "status": status}


USAGE_DROP = {"signal": "usage_drop", "severity": "high", "fired_on": date(2026, 9, 28),
              "evidence": {"active_users_trend_30d": -0.45, "arr": 180000.0}}


def test_the_documented_example_ranks_180k_at_40_percent_above_90k_at_50() -> None:
    acme = AccountBook(account("acme", 180_000, renewal=date(2026, 11, 11)), band="yellow",
                       churn={"churn_probability_window": 0.4, "window_days": 90},
                       alerts=[USAGE_DROP])
    beta = AccountBook(account("beta", 90_000), band="red",
                       churn={"churn_probability_window": 0.5, "window_days": 90})
    ranked = rank_actions([beta, acme], AS_OF, DEFS, {"usage_drop": "Usage down"})
    assert [a.account_id for a in ranked] == ["acme", "beta"]
    top = ranked[0]
    assert top.priority == Decimal("72000.00") and ranked[1].priority == Decimal("45000.00")
    assert top.title == "Call the champion of Acme about the drop in usage"
    assert "renewal in 42 days (2026-11-11)" in top.evidence
    assert any("active users trend 30d -45%" in e for e in top.evidence)
    assert top.url == "https://qd.example/accounts/acme"


def test_a_healthy_account_far_from_renewal_needs_no_action() -> None:
    calm = AccountBook(account("calm", 50_000, renewal=date(2027, 6, 1)), band="green")
    renewing_green = AccountBook(account("rg", 50_000, renewal=date(2026, 10, 20)), band="green")
    churned = AccountBook(account("gone", 0, status="churned"), band="red")
    for book in (calm, renewing_green, churned):
        assert action_for(book, AS_OF, DEFS, {}) is None


def test_without_a_churn_model_the_band_gives_the_risk() -> None:
    book = AccountBook(account("red", 10_000), band="red")
    action = action_for(book, AS_OF, DEFS, {})
    assert (action.risk, action.risk_source) == (0.5, "health band red")
    assert action.priority == Decimal("5000.00")
    assert action.title == "Review the health of Red with the account team"


def test_an_overdue_task_titles_the_action_when_no_alert_is_live() -> None:
    task = {"title": "Renewal proposal sent", "due_on": date(2026, 9, 15)}
    book = AccountBook(account("late", 20_000, renewal=date(2026, 12, 1)), band="yellow",
                       overdue_tasks=[task])
    action = action_for(book, AS_OF, DEFS, {})
    assert action.title == ("Close the overdue task 'Renewal proposal sent' at Late "
                            "(due 2026-09-15)")


def test_each_owner_gets_at_most_actions_per_owner() -> None:
    defs = ReportDefinitions(actions_per_owner=2)
    books = [AccountBook(account(f"a{i}", 1000 * (i + 1)), band="red") for i in range(4)]
    ranked = rank_actions(books, AS_OF, defs, {})
    assert [a.account_id for a in ranked] == ["a3", "a2"]
