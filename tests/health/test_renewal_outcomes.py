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


def _monthly() -> list[dict]:
    """Monthly rows: 100 MRR each (10 seats at 10), except after a seat change."""
    return [
        sub("m-1", "monthly", "2024-10-01", price="10"),  # pays throughout
        sub("mc-1", "mchurn", "2024-10-01", price="10", end_date="2025-02-01",
            canceled_at="2025-01-20T09:00:00"),  # leaves at a term end
        sub("ms-1", "mshrink", "2024-10-15", price="10", end_date="2025-01-15"),
        sub("ms-2", "mshrink", "2025-01-15", seats=6, price="10"),  # 10 → 6 seats
        sub("mm-1", "mmid", "2024-10-10", price="10", end_date="2024-12-20"),  # ends mid-term
        sub("mb-1", "both", "2024-06-01", price="1200", months=12, end_date="2025-06-01"),
        sub("mb-2", "both", "2024-09-01", price="10"),  # an add-on beside a contract
    ]


def _outcomes(duck, as_of: date = AS_OF) -> dict[tuple[str, date], dict]:
    subs = (_annual("renew", "2025-01-01") + _annual("shrink", "2025-01-01", seats=5)
            + _annual("churn", canceled_at="2024-11-15T10:00:00")
            + _annual("late", "2025-01-05") + _annual("very_late", "2025-01-20")
            + _monthly())
    names = ["renew", "shrink", "churn", "late", "very_late", "monthly", "mchurn", "mshrink",
             "mmid", "both"]
    tables = duck.load(world(accounts=[account(n, "SMB") for n in names], subscriptions=subs))
    rows = duck.con.to_pyarrow(renewal_outcomes(tables, as_of=as_of, base_currency="USD"))
    return {(r["account_id"], r["decision_date"]): r for r in rows.to_pylist()}


def _results(o: dict, account_id: str) -> list[tuple[date, str]]:
    return sorted((k[1], v["result"]) for k, v in o.items() if k[0] == account_id)


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


def test_a_monthly_account_decides_at_every_term_end(duck):
    o = _outcomes(duck)
    # Known by Apr 30: decisions up to Apr 23 (7 days of grace); May 1 is not yet.
    assert _results(o, "monthly") == [(date(2024, 11, 1), "renewed"),
                                      (date(2024, 12, 1), "renewed"),
                                      (date(2025, 1, 1), "renewed"),
                                      (date(2025, 2, 1), "renewed"),
                                      (date(2025, 3, 1), "renewed"),
                                      (date(2025, 4, 1), "renewed")]
    m = o[("monthly", date(2025, 3, 1))]
    assert (m["term"], m["period_start"], m["arr_at_stake"], m["arr_after"]) == (
        "monthly", date(2025, 3, 1), 1200, 1200)
    assert m["notice_date"] is None


def test_a_monthly_churn_is_the_term_end_where_the_mrr_stops(duck):
    o = _outcomes(duck)
    assert _results(o, "mchurn") == [(date(2024, 11, 1), "renewed"),
                                     (date(2024, 12, 1), "renewed"),
                                     (date(2025, 1, 1), "renewed"),
                                     (date(2025, 2, 1), "churned")]
    feb = o[("mchurn", date(2025, 2, 1))]
    assert (feb["period_start"], feb["arr_at_stake"], feb["arr_after"]) == (
        date(2025, 2, 1), 1200, 0)
    assert feb["notice_date"] == date(2025, 1, 20)
    # A row that ends between term boundaries: the boundaries before it, then its end.
    assert _results(o, "mmid") == [(date(2024, 11, 10), "renewed"),
                                   (date(2024, 12, 10), "renewed"),
                                   (date(2024, 12, 20), "churned")]


def test_a_monthly_seat_cut_is_a_contraction_and_the_new_row_sets_the_term(duck):
    o = _outcomes(duck)
    assert _results(o, "mshrink") == [(date(2024, 11, 15), "renewed"),
                                      (date(2024, 12, 15), "renewed"),
                                      (date(2025, 1, 15), "contracted"),
                                      (date(2025, 2, 15), "renewed"),
                                      (date(2025, 3, 15), "renewed"),
                                      (date(2025, 4, 15), "renewed")]
    jan = o[("mshrink", date(2025, 1, 15))]
    assert (jan["arr_at_stake"], jan["arr_after"]) == (1200, 720)
    assert o[("mshrink", date(2025, 2, 15))]["arr_at_stake"] == 720


def test_a_monthly_add_on_beside_a_contract_is_judged_by_the_contract(duck):
    o = _outcomes(duck)
    assert _results(o, "both") == []  # the contract runs to 2025-06-01


def test_a_decision_is_unknown_before_its_date_and_grace(duck):
    o = _outcomes(duck, as_of=date(2025, 1, 7))
    assert not any(k[1] == date(2025, 1, 1) for k in o)  # its grace runs to Jan 8
    assert o[("monthly", date(2024, 12, 1))]["result"] == "renewed"
    assert max(k[1] for k in o if k[0] == "mshrink") == date(2024, 12, 15)
