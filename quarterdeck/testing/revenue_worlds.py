"""Hand-built worlds for MRR movements and the ARR bridge, checkable with pencil and paper.

Each world is one or a few accounts living one revenue story; the account ids say which.
Base currency USD, as of `AS_OF` (2025-06-30) unless a docstring says otherwise. Every
amount below is MRR; movements are written `date type amount`. `revenue_world` puts them all
together (their accounts never meet, so each story reads the same alone or together).

Example: load_world(con, revenue_world()) then mrr_movements(tables, as_of=AS_OF, ...).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from quarterdeck.testing.worlds import World, merge, world

AS_OF = date(2025, 6, 30)

EUR_RATES = [
    {"date": "2024-03-01", "currency": "EUR", "rate_to_base": "1.08"},
    {"date": "2024-04-01", "currency": "EUR", "rate_to_base": "1.10"},
    {"date": "2025-03-01", "currency": "EUR", "rate_to_base": "1.12"},
    {"date": "2025-06-01", "currency": "EUR", "rate_to_base": "1.20"},
]


def account(account_id: str, parent: str | None = None, **more: Any) -> dict[str, Any]:
    return {"account_id": account_id, "name": account_id.replace("_", " ").title(),
            "parent_account_id": parent, "created_at": "2024-01-01", **more}


def sub(sub_id: str, account_id: str, start: str, quantity: Any, unit_price: Any,
        end: str | None = None, *, plan: str = "team", currency: str = "USD",
        interval_months: int = 1, **more: Any) -> dict[str, Any]:
    return {"subscription_id": sub_id, "account_id": account_id, "plan": plan,
            "quantity": quantity, "unit_price": unit_price, "currency": currency,
            "interval_months": interval_months, "start_date": start, "end_date": end, **more}


def every_movement() -> World:
    """Account `lifecycle` (segment SMB), the reference-rules example:
    2024-01-05 new 500.00 (10 × 50 at 20% off = 400 and 100 start the same day);
    2024-01-20 expansion 200.00 (400 row replaced by 15 × 50 at 20% off = 600: netted);
    2024-02-01 contraction −100.00; 2024-03-01 churn −600.00;
    2024-04-10 reactivation 300.00 (plan "pro").
    Bridge: Jan 0 → 700 (1 new customer), Feb 700 → 600, Mar 600 → 0 (1 churned),
    Apr 0 → 300 (1 reactivated); 2024-Q1 0 + 500 + 200 − 100 − 600 = 0 with no customer
    count (it came and went in the quarter)."""
    return world(accounts=[account("lifecycle", segment="SMB", tier="gold")], subscriptions=[
        sub("lc-1", "lifecycle", "2024-01-05", 10, "50", "2024-01-20", discount="0.2"),
        sub("lc-2", "lifecycle", "2024-01-05", 1, "100", "2024-02-01", plan="addon"),
        sub("lc-1b", "lifecycle", "2024-01-20", 15, "50", "2024-03-01", discount="0.2"),
        sub("lc-3", "lifecycle", "2024-04-10", 1, "300", plan="pro"),
    ])


def same_day_netting() -> World:
    """Account `netted` (segment SMB): on 2024-03-01 a 10-seat row (500.00) starts and is
    replaced the same day by 15 seats (750.00) → one `2024-03-01 new 750.00`. On 2024-05-01
    the 15 seats end, 12 seats (600.00) and an add-on (100.00) start → one
    `2024-05-01 contraction −50.00`."""
    return world(accounts=[account("netted", segment="SMB")], subscriptions=[
        sub("nt-1", "netted", "2024-03-01", 10, "50", "2024-03-01"),
        sub("nt-2", "netted", "2024-03-01", 15, "50", "2024-05-01"),
        sub("nt-3", "netted", "2024-05-01", 12, "50"),
        sub("nt-4", "netted", "2024-05-01", 1, "100", plan="addon"),
    ])


def free_plan_downgrade() -> World:
    """Account `freemium` pays 200.00 from 2024-01-10, runs a zero-priced "free" row from
    2024-04-01 to 2024-07-01, then pays 300.00 from 2024-07-01.
    free_plan="churn": 01-10 new 200, 04-01 churn −200, 07-01 reactivation 300; not a
    customer April–June. free_plan="contraction": 01-10 new 200, 04-01 contraction −200,
    07-01 expansion 300; a customer throughout.
    Account `free_then_gone` pays 100.00 in January 2024, runs a free row in February and
    nothing from 2024-03-01. "churn": 02-01 churn −100. "contraction": 02-01 contraction
    −100, and on 2024-03-01 it stops being a customer with no MRR movement (the March bridge
    counts 1 churned customer with churn 0.00)."""
    return world(accounts=[account("freemium"), account("free_then_gone")], subscriptions=[
        sub("fm-1", "freemium", "2024-01-10", 1, "200", "2024-04-01"),
        sub("fm-2", "freemium", "2024-04-01", 1, "0", "2024-07-01", plan="free"),
        sub("fm-3", "freemium", "2024-07-01", 1, "300"),
        sub("fg-1", "free_then_gone", "2024-01-01", 1, "100", "2024-02-01"),
        sub("fg-2", "free_then_gone", "2024-02-01", 5, "20", "2024-03-01", plan="free",
            discount="1"),
    ])


def prepaid_contracts() -> World:
    """Account `annual`: 1,200.00 a year from 2024-02-01 to 2025-02-01 → 100.00; renewed at
    1,440.00 a year → 2024-02-01 new 100.00, 2025-02-01 expansion 20.00 (ARR 1,440.00).
    Account `three_year`: 108,000.00 for 36 months from 2024-01-01 → 2024-01-01 new
    3,000.00 (ARR 36,000.00), nothing after."""
    return world(accounts=[account("annual", segment="Mid-Market"),
                           account("three_year", segment="Enterprise")], subscriptions=[
        sub("an-1", "annual", "2024-02-01", 1, "1200", "2025-02-01", interval_months=12),
        sub("an-2", "annual", "2025-02-01", 1, "1440", interval_months=12),
        sub("ty-1", "three_year", "2024-01-01", 1, "108000", "2027-01-01",
            interval_months=36),
    ])


def discount_expiry() -> World:
    """Account `discount`: 10 × 100.00 at 25% off (750.00) from 2024-01-01 to 2024-04-01,
    then at list price (1,000.00) → 2024-01-01 new 750.00, 2024-04-01 expansion 250.00."""
    return world(accounts=[account("discount")], subscriptions=[
        sub("dc-1", "discount", "2024-01-01", 10, "100", "2024-04-01", discount="0.25"),
        sub("dc-2", "discount", "2024-04-01", 10, "100"),
    ])


def euro_accounts() -> World:
    """EUR at 1.08 from 2024-03-01, 1.10 from 2024-04-01, 1.12 from 2025-03-01, 1.20 from
    2025-06-01. Each account starts 10 × €100 = €1,000 on 2024-03-15 at 1.08 = 1,080.00
    (2024-03-15 new 1,080.00), renewed on 2025-03-15 (2025-06-01 for `euro_down`):
    - `euro_flat` renews at €1,000 (1.12: 1,120.00) → 2025-03-15 fx_adjustment +40.00 only;
    - `euro_up` renews at 12 seats, €1,200 (1,344.00) → expansion +216.00 (200 × 1.08) and
      fx_adjustment +48.00;
    - `euro_down` renews on 2025-06-01 at 9 seats, €900 (1.20: 1,080.00, base unchanged) →
      contraction −108.00 and fx_adjustment +108.00.
    Account `two_currencies`: 100.00 USD from 2024-03-01; €50 from 2024-03-20 (1.08: 54.00)
    → expansion 54.00 (no EUR before: its own rate); on 2024-05-01 it becomes €80 (1.10:
    88.00) → expansion +32.40 (€30 × 54.00 / 50) and fx_adjustment +1.60."""
    starts = [sub(f"{a}-1", a, "2024-03-15", 10, "100", "2025-03-15" if a != "euro_down"
                  else "2025-06-01", currency="EUR") for a in ("euro_flat", "euro_up",
                                                                "euro_down")]
    return world(
        accounts=[account(a, region="EMEA") for a in
                  ("euro_flat", "euro_up", "euro_down", "two_currencies")],
        fx_rates=EUR_RATES,
        subscriptions=[
            *starts,
            sub("euro_flat-2", "euro_flat", "2025-03-15", 10, "100", currency="EUR"),
            sub("euro_up-2", "euro_up", "2025-03-15", 12, "100", currency="EUR"),
            sub("euro_down-2", "euro_down", "2025-06-01", 9, "100", currency="EUR"),
            sub("tc-1", "two_currencies", "2024-03-01", 1, "100"),
            sub("tc-2", "two_currencies", "2024-03-20", 1, "50", "2024-05-01",
                currency="EUR"),
            sub("tc-3", "two_currencies", "2024-05-01", 1, "80", currency="EUR"),
        ],
    )


def trial_conversion() -> World:
    """Account `trialist`: a trial of 5 × 20.00 from 2024-02-01 to 2024-02-15 (no MRR, no
    movement), then paid → 2024-02-15 new 100.00; its daily rows start on 2024-02-15."""
    return world(accounts=[account("trialist")], subscriptions=[
        sub("tr-1", "trialist", "2024-02-01", 5, "20", "2024-02-15", trial=True),
        sub("tr-2", "trialist", "2024-02-15", 5, "20"),
    ])


def hierarchy() -> World:
    """`group_child` (parent `group_parent`) pays 200.00 from 2024-01-01; its child
    `group_grandchild` 50.00 from 2024-02-01; `group_sibling` (parent `group_parent`)
    100.00 from 2024-03-01 to 2024-06-01. On 2024-07-01 the child's contract moves to the
    parent (its row ends, the same 200.00 starts on `group_parent`). `orphan` names a parent
    that does not exist and pays 10.00 from 2024-01-01; `loop_x` and `loop_y` name each
    other (loop_x pays 10.00 from 2024-01-01).
    Rolled up, `group_parent`: 01-01 new 200, 02-01 expansion 50, 03-01 expansion 100,
    06-01 contraction −100, nothing on 07-01; `orphan` stays itself; `loop_x` reports under
    `loop_y` (the chain stops before revisiting an account). Not rolled up: group_child
    01-01 new 200 and 07-01 churn −200, group_parent 07-01 new 200."""
    return world(
        accounts=[account("group_parent", segment="Enterprise"),
                  account("group_child", "group_parent", segment="Mid-Market"),
                  account("group_grandchild", "group_child"),
                  account("group_sibling", "group_parent"),
                  account("orphan", "nowhere"),
                  account("loop_x", "loop_y"), account("loop_y", "loop_x")],
        subscriptions=[
            sub("gc-1", "group_child", "2024-01-01", 1, "200", "2024-07-01"),
            sub("gg-1", "group_grandchild", "2024-02-01", 1, "50"),
            sub("gs-1", "group_sibling", "2024-03-01", 1, "100", "2024-06-01"),
            sub("gp-1", "group_parent", "2024-07-01", 1, "200"),
            sub("or-1", "orphan", "2024-01-01", 1, "10"),
            sub("lx-1", "loop_x", "2024-01-01", 1, "10"),
        ],
    )


def past_due() -> World:
    """Account `late_payer` pays 500.00 a month from 2024-01-01. Invoice i-1 is due
    2024-01-15 and paid 2024-02-14 (30 days late: never past due with N = 30). Invoice i-2 is
    due 2024-03-15 and paid 2024-05-10. With past_due_churn_days=30: 2024-04-15 (day 31 past
    due) churn −500.00, 2024-05-10 reactivation 500.00. As of 2024-05-01 the payment is not
    known: MRR 0.00 from 2024-04-15 through the as-of date. Without the setting: no effect."""
    return world(
        accounts=[account("late_payer")],
        subscriptions=[sub("lp-1", "late_payer", "2024-01-01", 1, "500")],
        invoices=[
            {"invoice_id": "i-1", "account_id": "late_payer", "issued_at": "2024-01-01",
             "due_at": "2024-01-15T00:00:00", "paid_at": "2024-02-14T12:00:00",
             "amount": "500", "currency": "USD"},
            {"invoice_id": "i-2", "account_id": "late_payer", "issued_at": "2024-03-01",
             "due_at": "2024-03-15T00:00:00", "paid_at": "2024-05-10T09:00:00",
             "amount": "500", "currency": "USD"},
        ],
    )


def leap_day() -> World:
    """Account `leap`: 29.00 from 2024-02-29 (leap day) to 2024-03-31 → 2024-02-29 new
    29.00, 2024-03-31 churn −29.00 (the last day of March: March ends at 0.00). Bridge
    2024-02: 0 → 29, 1 new customer; 2024-03: 29 → 0, 1 churned; 2024-Q1: 0 → 0, new 29 and
    churn −29, no customer count. Account `month_end`: 100.00 from 2024-01-31 → new on the
    last day of January, so January ends at 100.00."""
    return world(accounts=[account("leap"), account("month_end")], subscriptions=[
        sub("lpd-1", "leap", "2024-02-29", 1, "29", "2024-03-31"),
        sub("me-1", "month_end", "2024-01-31", 1, "100"),
    ])


def revenue_world() -> World:
    """Every world above, side by side."""
    return merge(every_movement(), same_day_netting(), free_plan_downgrade(),
                 prepaid_contracts(), discount_expiry(), euro_accounts(), trial_conversion(),
                 hierarchy(), past_due(), leap_day())
