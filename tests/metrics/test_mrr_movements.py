"""mrr_movements: every movement type on the hand-built revenue worlds, on each backend."""

from __future__ import annotations

import importlib.util
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from quarterdeck.metrics.dimensions import account_dimensions
from quarterdeck.metrics.mrr_movements import movements_by_period, mrr_movements
from quarterdeck.testing import revenue_worlds as rw
from quarterdeck.warehouse.connection import connect

# The warehouse suite's backend fixtures (DuckDB, and PostgreSQL when configured), reused.
_spec = importlib.util.spec_from_file_location(
    "warehouse_conftest", Path(__file__).parents[1] / "warehouse" / "conftest.py")
_warehouse = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_warehouse)
on_backend = _warehouse.on_backend
duckdb_backend = _warehouse.duckdb_backend

D = Decimal


def movements(backend, world=None, **settings):
    tables = backend.load(world or rw.revenue_world())
    expr = mrr_movements(tables, as_of=settings.pop("as_of", rw.AS_OF), base_currency="USD",
                         **settings)
    return {(r["account_id"], r["date"].isoformat(), r["movement_type"]):
            (r["amount"], r["mrr_before"], r["mrr_after"])
            for r in backend.rows(expr, "account_id", "date", "movement_type")}


def of(moves, account):
    return {(day, kind): values[0] for (a, day, kind), values in moves.items() if a == account}


@pytest.fixture(scope="module")
def default_moves():
    """Movements of the whole revenue world with the default settings, on DuckDB."""
    return movements(_warehouse.Backend(connect("duckdb://")))


def test_every_movement_type_on_the_reference_example(on_backend):
    moves = movements(on_backend, rw.every_movement())
    assert moves == {
        ("lifecycle", "2024-01-05", "new"): (D("500.00"), D("0.00"), D("500.00")),
        ("lifecycle", "2024-01-20", "expansion"): (D("200.00"), D("500.00"), D("700.00")),
        ("lifecycle", "2024-02-01", "contraction"): (D("-100.00"), D("700.00"), D("600.00")),
        ("lifecycle", "2024-03-01", "churn"): (D("-600.00"), D("600.00"), D("0.00")),
        ("lifecycle", "2024-04-10", "reactivation"): (D("300.00"), D("0.00"), D("300.00")),
    }


def test_same_day_changes_are_netted_into_one_movement(default_moves):
    assert of(default_moves, "netted") == {("2024-03-01", "new"): D("750.00"),
                                           ("2024-05-01", "contraction"): D("-50.00")}


def test_free_plan_counts_as_churn_by_default(default_moves):
    assert of(default_moves, "freemium") == {
        ("2024-01-10", "new"): D("200.00"), ("2024-04-01", "churn"): D("-200.00"),
        ("2024-07-01", "reactivation"): D("300.00")}
    assert of(default_moves, "free_then_gone") == {
        ("2024-01-01", "new"): D("100.00"), ("2024-02-01", "churn"): D("-100.00")}


def test_free_plan_as_contraction_keeps_the_logo(on_backend):
    moves = movements(on_backend, rw.free_plan_downgrade(), free_plan="contraction")
    assert of(moves, "freemium") == {
        ("2024-01-10", "new"): D("200.00"), ("2024-04-01", "contraction"): D("-200.00"),
        ("2024-07-01", "expansion"): D("300.00")}
    assert of(moves, "free_then_gone") == {
        ("2024-01-01", "new"): D("100.00"), ("2024-02-01", "contraction"): D("-100.00")}


def test_prepaid_contracts_and_discount_expiry(default_moves):
    assert of(default_moves, "annual") == {("2024-02-01", "new"): D("100.00"),
                                           ("2025-02-01", "expansion"): D("20.00")}
    assert of(default_moves, "three_year") == {("2024-01-01", "new"): D("3000.00")}
    assert of(default_moves, "discount") == {("2024-01-01", "new"): D("750.00"),
                                             ("2024-04-01", "expansion"): D("250.00")}


def test_exchange_rates_never_create_a_movement(on_backend):
    moves = movements(on_backend, rw.euro_accounts())
    assert of(moves, "euro_flat") == {("2024-03-15", "new"): D("1080.00"),
                                      ("2025-03-15", "fx_adjustment"): D("40.00")}
    assert moves["euro_up", "2025-03-15", "expansion"] == (D("216.00"), D("1080.00"),
                                                            D("1296.00"))
    assert moves["euro_up", "2025-03-15", "fx_adjustment"] == (D("48.00"), D("1296.00"),
                                                                D("1344.00"))
    assert of(moves, "euro_down")[("2025-06-01", "contraction")] == D("-108.00")
    assert of(moves, "euro_down")[("2025-06-01", "fx_adjustment")] == D("108.00")
    assert of(moves, "two_currencies") == {
        ("2024-03-01", "new"): D("100.00"), ("2024-03-20", "expansion"): D("54.00"),
        ("2024-05-01", "expansion"): D("32.40"), ("2024-05-01", "fx_adjustment"): D("1.60")}


def test_a_trial_converting_is_new_on_the_conversion_day(default_moves):
    assert of(default_moves, "trialist") == {("2024-02-15", "new"): D("100.00")}


def test_children_roll_up_to_their_top_ancestor(on_backend):
    moves = movements(on_backend, rw.hierarchy(), roll_up_parents=True)
    assert of(moves, "group_parent") == {
        ("2024-01-01", "new"): D("200.00"), ("2024-02-01", "expansion"): D("50.00"),
        ("2024-03-01", "expansion"): D("100.00"), ("2024-06-01", "contraction"): D("-100.00")}
    assert {a for a, _, _ in moves} == {"group_parent", "orphan", "loop_y"}


def test_without_roll_up_a_moved_contract_is_churn_and_new(default_moves):
    assert of(default_moves, "group_child") == {("2024-01-01", "new"): D("200.00"),
                                                ("2024-07-01", "churn"): D("-200.00")}
    assert of(default_moves, "group_parent") == {("2024-07-01", "new"): D("200.00")}


def test_past_due_churns_then_payment_reactivates(on_backend):
    moves = movements(on_backend, rw.past_due(), past_due_churn_days=30)
    assert of(moves, "late_payer") == {
        ("2024-01-01", "new"): D("500.00"), ("2024-04-15", "churn"): D("-500.00"),
        ("2024-05-10", "reactivation"): D("500.00")}
    earlier = movements(on_backend, rw.past_due(), past_due_churn_days=30,
                        as_of=date(2024, 5, 1))
    assert of(earlier, "late_payer") == {("2024-01-01", "new"): D("500.00"),
                                         ("2024-04-15", "churn"): D("-500.00")}
    assert of(movements(on_backend, rw.past_due()), "late_payer") == {
        ("2024-01-01", "new"): D("500.00")}


def test_leap_day_and_month_ends(default_moves):
    assert of(default_moves, "leap") == {("2024-02-29", "new"): D("29.00"),
                                         ("2024-03-31", "churn"): D("-29.00")}
    assert of(default_moves, "month_end") == {("2024-01-31", "new"): D("100.00")}


def test_movements_by_quarter_and_segment_with_an_all_row(duckdb_backend):
    tables = duckdb_backend.load(rw.every_movement())
    moves = mrr_movements(tables, as_of=rw.AS_OF, base_currency="USD")
    dims = account_dimensions(tables, as_of=rw.AS_OF, base_currency="USD")
    expr = movements_by_period(moves, dims, grain="quarter", start=date(2024, 1, 1),
                               end=date(2024, 6, 30), by=("segment",))
    rows = {(r["period"], r["segment"], r["movement_type"]): (r["amount"], r["accounts"])
            for r in duckdb_backend.rows(expr, "period")}
    assert rows == {
        (q, seg, kind): value
        for seg in ("SMB", "all")
        for q, kind, value in [
            ("2024-Q1", "new", (D("500.00"), 1)), ("2024-Q1", "expansion", (D("200.00"), 1)),
            ("2024-Q1", "contraction", (D("-100.00"), 1)),
            ("2024-Q1", "churn", (D("-600.00"), 1)),
            ("2024-Q2", "reactivation", (D("300.00"), 1))]
    }

