"""Each account of the book world takes the stage its situation says (see book_world)."""

from __future__ import annotations

from datetime import date
from typing import Any


def by_account(con: Any, table: Any) -> dict[str, dict[str, Any]]:
    return {r["account_id"]: r for r in con.to_pyarrow(table).to_pylist()}


EXPECTED_STAGES = {
    "new-co": "onboarding", "renewing": "renewal", "red-renewal": "at_risk",
    "gone": "churned", "lead": "prospect", "trying": "trial", "steady": "mature",
    "enterprise": "mature", "young": "adoption",
}


def test_every_account_takes_the_first_stage_whose_rule_holds(book_day) -> None:
    con, day = book_day
    stages = by_account(con, day.stages)
    assert {a: r["stage"] for a, r in stages.items()} == EXPECTED_STAGES


def test_the_rule_that_placed_an_account_is_kept_in_words(book_day) -> None:
    con, day = book_day
    stages = by_account(con, day.stages)
    assert stages["red-renewal"]["stage_rule"] == (
        "status = active and (health_band = red or churn_probability_window ≥ 0.3)")
    assert stages["steady"]["stage_rule"] == "always"


def test_facts_are_the_hand_computed_ones(book_day) -> None:
    con, day = book_day
    s = by_account(con, day.stages)
    assert s["renewing"]["days_to_renewal"] == 32
    assert s["renewing"]["renewal_date"] == date(2026, 8, 1)
    assert s["enterprise"]["mrr"] == 10000
    assert s["enterprise"]["tier"] == "Tier 1"
    assert s["enterprise"]["days_since_last_qbr_or_start"] == 166
    assert s["gone"]["churned_on"] == date(2026, 3, 1)
    assert s["gone"]["days_since_churn"] == 121
    assert s["steady"]["days_invoice_overdue"] == 29
    assert s["enterprise"]["champions_left_30d"] == 1
    assert s["new-co"]["days_since_start"] == 29
    assert s["lead"]["renewal_date"] is None
    assert s["steady"]["owner_manager_email"] == "mo@example.com"


def test_segments_follow_their_rules(book_day) -> None:
    con, day = book_day
    s = by_account(con, day.stages)
    assert s["enterprise"]["cs_segment"] == "high_touch"  # MRR 10,000
    assert s["renewing"]["cs_segment"] == "mid_touch"  # MRR 1,000
    assert s["young"]["cs_segment"] == "tech_touch"  # MRR 200
    assert s["lead"]["cs_segment"] == "tech_touch"


def test_milestones_and_time_to_value(book_day) -> None:
    con, day = book_day
    s = by_account(con, day.stages)
    assert s["new-co"]["kickoff_on"] == date(2026, 6, 3)
    assert s["new-co"]["go_live_on"] is None
    assert s["new-co"]["onboarding_complete"] is False
    assert s["new-co"]["onboarding_on_time"] is None  # still within its 90 days
    assert s["young"]["first_value_on"] == date(2025, 12, 1)
    assert s["young"]["time_to_value_days"] == 30
    assert s["young"]["onboarding_on_time"] is True
    assert s["young"]["active_team_on"] is None  # 2 users a day: never 3
    assert s["steady"]["time_to_value_days"] == 50
