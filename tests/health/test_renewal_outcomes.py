"""Renewal outcomes from subscription history, as known at 2025-04-30 (grace 7 days)."""

from __future__ import annotations

from datetime import date

from health_worlds import account, sub

from quarterdeck.health.renewal_outcomes import renewal_outcomes
from quarterdeck.testing.worlds import world

AS_OF = date(2025, 4, 30)


def _annual(name: str, renewal_start: str | None = None, seats: int = 10,
            **more: object) -> list[dict]:
    rows = [sub(f"{name}-1", name, "2024-01-01", seats=10, price="1200", months=12,
                end_date="2025-01-01", **more)]
    if renewal_start:
        rows.append(sub(f"{name}-2", name, renewal_start, seats=seats, price="1200", months=12,
                        end_date="2026-01-01"))
    return rows


def _outcomes(duck, as_of: date = AS_OF) -> dict[tuple[str, date], dict]:
    subs = (_annual("renew", "2025-01-01") + _annual("shrink", "2025-01-01", seats=5)
            + _annual("churn", canceled_at="2024-11-15T10:00:00")
            + _annual("late", "2025-01-05") + _annual("very_late", "2025-01-20")
            + [sub("m-1", "monthly", "2024-10-01", price="10"),
               sub("mc-1", "mchurn", "2024-10-01", price="10", end_date="2025-02-01",
                   canceled_at="2025-01-20T09:00:00")])
    names = ["renew", "shrink", "churn", "late", "very_late", "monthly", "mchurn"]
    tables = duck.load(world(accounts=[account(n, "SMB") for n in names], subscriptions=subs))
    rows = duck.con.to_pyarrow(renewal_outcomes(tables, as_of=as_of, base_currency="USD"))
    return {(r["account_id"], r["decision_date"]): r for r in rows.to_pylist()}


def test_contract_results_and_late_renewal_within_grace(duck):
    o = _outcomes(duck)
    jan = date(2025, 1, 1)
    assert {a: o[(a, jan)]["result"] for a in ("renew", "shrink", "churn", "late",
                                               "very_late")} == {
        "renew": "renewed", "shrink": "contracted", "churn": "churned", "late": "renewed",
        "very_late": "churned"}
    assert o[("renew", jan)]["arr_at_stake"] == 12000
    assert o[("shrink", jan)]["arr_after"] == 6000
    assert o[("churn", jan)]["notice_date"] == date(2024, 11, 15)
    assert o[("renew", jan)]["term"] == "contract"
    assert o[("renew", jan)]["segment"] == "SMB"


def test_monthly_accounts_decide_once_a_quarter(duck):
    o = _outcomes(duck)
    monthly = sorted((k[1], v["result"]) for k, v in o.items() if k[0] == "monthly")
    assert monthly == [(date(2024, 12, 31), "renewed"), (date(2025, 3, 31), "renewed")]
    q1 = o[("mchurn", date(2025, 3, 31))]
    assert (q1["result"], q1["period_start"], q1["arr_at_stake"]) == (
        "churned", date(2025, 1, 1), 1200)
    assert q1["notice_date"] == date(2025, 1, 20)


def test_a_decision_is_unknown_before_its_date_and_grace(duck):
    o = _outcomes(duck, as_of=date(2025, 1, 7))
    assert not any(k[1] == date(2025, 1, 1) for k in o)  # its grace runs to Jan 8
    assert o[("monthly", date(2024, 12, 31))]["result"] == "renewed"
