"""The pure parts of the dbt mrr-playbook benchmark: the seed made from Quarterdeck's
subscription rows, the adaptation of the playbook's files, the month-by-month comparison.

No dbt and no network: the seed is checked against Quarterdeck's own daily MRR on the first
day of every month, which is what the playbook's `mrr` model reads from it.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import ibis
import pytest

from quarterdeck.metrics.registry import MetricOptions, metric
from quarterdeck.testing import revenue_worlds as rw
from quarterdeck.testing.worlds import load_world, world

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"
# The benchmark imports its neighbours (machine_load, metrics, run) by name, as it runs there.
sys.path.insert(0, str(BENCHMARKS))
try:
    _spec = importlib.util.spec_from_file_location("dbt_playbook",
                                                   BENCHMARKS / "dbt_playbook.py")
    bench = importlib.util.module_from_spec(_spec)
    sys.modules["dbt_playbook"] = bench  # its dataclasses look their module up there
    _spec.loader.exec_module(bench)
finally:
    sys.path.remove(str(BENCHMARKS))

AS_OF = date(2024, 6, 30)


def account(account_id: str, created_at: str = "2023-01-01") -> dict:
    return {"account_id": account_id, "name": account_id, "created_at": created_at}


def sub(sub_id: str, account_id: str, start: str, end: str | None = None, *,
        price: str = "100", **more: object) -> dict:
    return {"subscription_id": sub_id, "account_id": account_id, "plan": "team",
            "quantity": 1, "unit_price": price, "currency": "USD", "interval_months": 1,
            "start_date": start, "end_date": end, **more}


def periods(w: dict, as_of: date = AS_OF) -> list[tuple]:
    tables = load_world(ibis.duckdb.connect(), w)
    rows = bench.subscription_periods(tables, as_of=as_of, base_currency="USD")
    return [(r["subscription_id"], r["customer_id"], r["start_date"].isoformat(),
             r["end_date"].isoformat(), r["monthly_amount"])
            for r in rows.to_pyarrow().to_pylist()]


def test_a_row_runs_on_the_same_first_days_of_a_month_as_its_period() -> None:
    # Running on 1 February, 1 March and 1 April: the period holds those three months.
    w = world(accounts=[account("a")], subscriptions=[sub("s1", "a", "2024-01-15", "2024-04-10")])
    assert periods(w) == [("s1", "a", "2024-02-01", "2024-05-01", Decimal("100.00"))]


def test_dates_on_the_first_of_a_month_stay() -> None:
    w = world(accounts=[account("a")], subscriptions=[sub("s1", "a", "2024-02-01", "2024-04-01")])
    assert periods(w) == [("s1", "a", "2024-02-01", "2024-04-01", Decimal("100.00"))]


@pytest.mark.parametrize("as_of", [date(2024, 6, 1), date(2024, 6, 17), date(2024, 6, 30)])
def test_a_running_row_ends_at_the_first_of_the_month_after_as_of(as_of: date) -> None:
    # Also a row canceled after as_of: not known to end yet.
    w = world(accounts=[account("a")], subscriptions=[
        sub("s1", "a", "2024-03-01"),
        sub("s2", "a", "2024-03-01", "2024-09-01", canceled_at="2024-08-20T10:00:00")])
    assert [(p[0], p[3]) for p in periods(w, as_of)] == [("s1", "2024-07-01"),
                                                          ("s2", "2024-07-01")]


def test_amount_is_the_rows_mrr_in_the_base_currency() -> None:
    # 1,200.00 EUR a year at 1.10 → 110.00 USD a month.
    w = world(accounts=[account("a")],
              fx_rates=[{"date": "2024-01-01", "currency": "EUR", "rate_to_base": "1.10"}],
              subscriptions=[sub("s1", "a", "2024-02-01", price="1200", currency="EUR",
                                 interval_months=12)])
    assert periods(w)[0][4] == Decimal("110.00")


def test_trials_rows_within_a_month_and_rows_not_known_at_as_of_are_left_out() -> None:
    w = world(accounts=[account("a"), account("later", created_at="2024-07-15")],
              subscriptions=[
                  sub("trial", "a", "2024-01-01", "2024-02-01", trial=True),
                  sub("inside", "a", "2024-02-03", "2024-02-20"),
                  sub("paid", "a", "2024-02-20"),
                  sub("future", "a", "2024-07-01"),
                  sub("of-later", "later", "2024-03-01"),
              ])
    assert [p[0] for p in periods(w)] == ["paid"]


def test_a_zero_priced_row_is_a_period_of_zero() -> None:
    w = world(accounts=[account("a")], subscriptions=[sub("free", "a", "2024-02-01", price="0")])
    assert periods(w) == [("free", "a", "2024-02-01", "2024-07-01", Decimal("0.00"))]


def month_of(day: date) -> date:
    return day.replace(day=1)


def test_the_periods_give_quarterdeck_mrr_on_the_first_of_every_month() -> None:
    """On the hand-built revenue worlds (netting, prepaid contracts, discounts, euro rates,
    trials, a hierarchy, a leap day), the playbook's rule as customer_revenue_by_month writes
    it: a customer's months run from the month of its first start_date up to, not including,
    the month of its last end_date, and a month's MRR is the periods with start_date ≤ month <
    end_date. That gives account_mrr_daily's MRR on the first day of every month."""
    tables = load_world(ibis.duckdb.connect(), rw.revenue_world())
    seed = bench.subscription_periods(tables, as_of=rw.AS_OF, base_currency="USD")
    seed = seed.to_pyarrow().to_pylist()
    spine = {}
    for p in seed:
        first, last = spine.get(p["customer_id"], (p["start_date"], p["end_date"]))
        spine[p["customer_id"]] = (min(first, p["start_date"]), max(last, p["end_date"]))
    daily = metric("account_mrr_daily", tables, MetricOptions(as_of=rw.AS_OF,
                                                               base_currency="USD"))
    firsts = daily.filter(daily.date.day() == 1).to_pyarrow().to_pylist()
    assert len({r["date"] for r in firsts}) == 18
    for day in sorted({r["date"] for r in firsts}):
        expected = {r["account_id"]: r["mrr"] for r in firsts if r["date"] == day and r["mrr"]}
        got: dict[str, Decimal] = {}
        for p in seed:
            first, last = spine[p["customer_id"]]
            if month_of(first) <= day < month_of(last) and p["start_date"] <= day < p["end_date"]:
                got[p["customer_id"]] = got.get(p["customer_id"], Decimal(0)) + p["monthly_amount"]
        assert {k: v for k, v in got.items() if v} == expected, day


PLAYBOOK_FILES = {
    "dbt_project.yml": "name: acme\nsource-paths: [\"models\"]\ndata-paths: [\"data\"]\n\n"
                       "seeds:\n  quote_columns: false\n",
    "packages.yml": "packages:\n  - package: dbt-labs/dbt_utils\n    version: 0.8.0\n",
    "models/customer_churn_month.sql": "select\n    dateadd(month, 1, date_month)::date as "
                                       "date_month,\n    0::float as mrr\nfrom mrr\n",
    "models/utils/util_months.sql": "{{ dbt_utils.date_spine(\n    datepart=\"month\",\n"
                                    "    start_date=\"'2018-01-01'\",\n    end_date=\""
                                    "date_trunc('month', current_date)\"\n   )\n}}\n",
}


def fake_playbook(root: Path) -> Path:
    for name, text in PLAYBOOK_FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_playbook_is_adapted_for_dbt_1_and_duckdb(tmp_path: Path) -> None:
    project = fake_playbook(tmp_path / "playbook")
    applied = bench.adapt_project(project, tmp_path / "dbt_utils")
    assert len(applied) == len(bench.ADAPTATIONS) + 1
    assert all(a.why for a in applied)
    assert (project / "dbt_project.yml").read_text() == (
        "name: acme\nmodel-paths: [\"models\"]\nseed-paths: [\"data\"]\n\n"
        "models:\n  +materialized: table\n\nseeds:\n  quote_columns: false\n")
    assert (project / "packages.yml").read_text() == (
        f"packages:\n  - local: {tmp_path / 'dbt_utils'}\n")
    assert "{{ dbt.dateadd('month', 1, 'date_month') }}::date as date_month" in (
        project / "models/customer_churn_month.sql").read_text()
    spine = (project / "models/utils/util_months.sql").read_text()
    assert "start_date=\"cast('2018-01-01' as date)\"" in spine
    assert "end_date=\"date_trunc('month', cast('\" ~ var('today') ~ \"' as date))\"" in spine


def test_without_a_local_dbt_utils_the_hub_gives_0_9(tmp_path: Path) -> None:
    project = fake_playbook(tmp_path)
    bench.adapt_project(project, None)
    assert 'version: [">=0.9.0", "<1.0.0"]' in (project / "packages.yml").read_text()


def test_a_checkout_without_the_expected_text_is_refused(tmp_path: Path) -> None:
    project = fake_playbook(tmp_path)
    (project / "dbt_project.yml").write_text("name: acme\nmodel-paths: [\"models\"]\n")
    with pytest.raises(bench.PlaybookMismatch, match="dbt_project.yml: 'source-paths:'"):
        bench.adapt_project(project, None)


def test_months_are_compared_with_a_missing_month_as_zero() -> None:
    quarterdeck = {"2024-01-01": (Decimal("100.00"), 1), "2024-02-01": (Decimal("250.00"), 2)}
    playbook = {"2023-12-01": (Decimal("0"), 0), "2024-01-01": (Decimal("100.00"), 1),
                "2024-02-01": (Decimal("249.98"), 3)}
    compared = bench.compare_months(quarterdeck, playbook)
    assert (compared.months, compared.equal_mrr, compared.equal_customers) == (3, 2, 2)
    assert compared.largest_mrr_difference == ("2024-02-01", Decimal("-0.02"))
    assert compared.largest_customer_difference == ("2024-02-01", 1)


def test_the_profile_is_the_one_the_playbook_names(tmp_path: Path) -> None:
    import yaml

    profile = yaml.safe_load(bench.profiles_yml(tmp_path / "p.duckdb"))["playbook"]
    output = profile["outputs"][profile["target"]]
    assert (output["type"], output["path"]) == ("duckdb", str(tmp_path / "p.duckdb"))
