"""Validation on a world whose AUC is computed by hand."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa
import pytest
from health_worlds import account, sub
from rich.console import Console

from quarterdeck.health.definitions import HealthModels
from quarterdeck.health.validation import auc, validate_model
from quarterdeck.health.validation_report import render_validation_html, render_validation_rich
from quarterdeck.testing.worlds import world


def test_auc_counts_the_pairs_ranked_right():
    assert auc([1, 0, 1, 0], [4, 3, 2, 1]) == 0.75
    assert auc([0, 0], [1, 2]) is None


def _world():
    """Four annual contracts ending 2025-01-01. Events per seat in the 30 days to 2024-12-02
    (30 days before): C1 1, R1 2, C2 3, R2 4. R1 and R2 renew; C1 and C2 leave."""
    per_seat = {"c1": 1, "r1": 2, "c2": 3, "r2": 4}
    subs, evs = [], []
    for name, rate in per_seat.items():
        subs.append(sub(f"{name}-1", name, "2024-01-01", seats=10, price="1200", months=12,
                        end_date="2025-01-01"))
        if name.startswith("r"):
            subs.append(sub(f"{name}-2", name, "2025-01-01", seats=10, price="1200",
                            months=12, end_date="2026-01-01"))
        for i in range(rate * 10):
            day = date(2024, 11, 10) + timedelta(days=i % 20)
            evs.append({"event_id": f"{name}-{i}", "timestamp": f"{day}T10:00:00",
                        "event": "login", "account_id": name})
    return world(accounts=[account(n, "SMB") for n in per_seat], subscriptions=subs,
                 events=evs)


def test_validation_reports_auc_precision_and_calibration_by_hand(duck):
    models = HealthModels.model_validate({"models": [{"name": "usage", "components": [
        {"feature": "events_per_seat_30d", "weight": 1, "linear": {"from": 0, "to": 10}}]}]})
    result = validate_model(duck.load(_world()), models, base_currency="USD",
                            start=date(2024, 12, 1), end=date(2025, 1, 31),
                            as_of=date(2025, 2, 15), days_before=(30,))
    overall = result.summary[0]
    assert (overall["segment"], overall["decisions"], overall["churned"]) == ("all", 4, 2)
    assert overall["auc"] == 0.75  # 3 of the 4 churned–renewed pairs ranked right
    # scores 10, 20, 30 are red (below 40), 40 is yellow: 2 of the 3 red churned
    assert overall["red_share"] == 0.75
    assert overall["red_precision"] == pytest.approx(2 / 3)
    assert overall["lift"] == pytest.approx(4 / 3)
    assert overall["churned_arr_recall"] == 1.0
    red = next(c for c in result.calibration if c["band"] == "red")
    assert (red["decisions"], red["churned"]) == (3, 2)
    top = {r["feature"]: r for r in result.feature_ranking}["events_per_seat_30d"]
    assert (top["auc"], top["direction"], top["coverage"]) == (0.75, "lower is riskier", 1.0)
    html = render_validation_html(result)
    assert html.startswith("<!doctype html>") and "<svg" in html and "0.750" in html
    console = Console(record=True, width=160)
    render_validation_rich(result, console)
    assert "events_per_seat_30d" in console.export_text()


def test_contract_renewals_and_monthly_terms_are_reported_apart(duck):
    """The four contracts above plus a monthly account from 2024-10-01 that leaves at its
    2025-01-01 term end: two monthly decisions in the window (Dec 1 renewed, Jan 1 churned)."""
    data = _world()
    monthly = world(accounts=[account("m", "SMB")],
                    subscriptions=[sub("m-1", "m", "2024-10-01", end_date="2025-01-01")])
    data = {**data, "accounts": pa.concat_tables([data["accounts"], monthly["accounts"]]),
            "subscriptions": pa.concat_tables([data["subscriptions"],
                                               monthly["subscriptions"]])}
    models = HealthModels.model_validate({"models": [{"name": "usage", "components": [
        {"feature": "events_per_seat_30d", "weight": 1, "linear": {"from": 0, "to": 10}}]}]})
    result = validate_model(duck.load(data), models, base_currency="USD",
                            start=date(2024, 12, 1), end=date(2025, 1, 31),
                            as_of=date(2025, 2, 15), days_before=(30,))
    rows = {r["segment"]: r for r in result.summary}
    assert list(rows) == ["all", "term: contract", "term: monthly", "SMB"]
    assert (rows["all"]["decisions"], rows["all"]["churned"]) == (6, 3)
    assert (rows["term: contract"]["decisions"], rows["term: contract"]["churned"]) == (4, 2)
    assert rows["term: contract"]["auc"] == 0.75  # as above
    assert (rows["term: monthly"]["decisions"], rows["term: monthly"]["churned"]) == (2, 1)
    monthly_scored = [r for r in result.scored.to_pylist() if r["term"] == "monthly"]
    assert sorted((r["decision_date"], r["score_date"]) for r in monthly_scored) == [
        (date(2024, 12, 1), date(2024, 11, 1)), (date(2025, 1, 1), date(2024, 12, 2))]


def test_validation_names_the_components_without_data_and_the_decisions_it_could_not_score(
        duck):
    models = HealthModels.model_validate({"models": [{"name": "support", "components": [
        {"feature": "urgent_tickets_30d", "weight": 1, "linear": {"from": 3, "to": 0}},
        {"feature": "latest_nps", "weight": 1, "linear": {"from": 0, "to": 10}}]}]})
    result = validate_model(duck.load(_world()), models, base_currency="USD",
                            start=date(2024, 12, 1), end=date(2025, 1, 31),
                            as_of=date(2025, 2, 15), days_before=(30,))
    gaps = {r["feature"]: r for r in result.components_without_data}
    assert gaps["urgent_tickets_30d"]["reason"] == "no tickets known by 2025-02-15"
    assert gaps["latest_nps"]["reason"] == "no survey answers known by 2025-02-15"
    assert gaps["latest_nps"]["model"] == "support"
    console = Console(record=True, width=160)
    render_validation_rich(result, console)
    assert "no data for component urgent_tickets_30d of support: no tickets known" in (
        console.export_text())
    nps_only = HealthModels.model_validate({"models": [{"name": "sentiment", "components": [
        {"feature": "latest_nps", "weight": 1, "linear": {"from": 0, "to": 10}}]}]})
    result = validate_model(duck.load(_world()), nps_only, base_currency="USD",
                            start=date(2024, 12, 1), end=date(2025, 1, 31),
                            as_of=date(2025, 2, 15), days_before=(30,))
    assert result.unscored == 4 and result.summary[0]["auc"] is None
    console = Console(record=True, width=160)
    render_validation_rich(result, console)
    assert "4 decisions could not be scored 30 days before" in console.export_text()
    assert "could not be scored" in render_validation_html(result)
