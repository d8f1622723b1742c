"""Scoring rules: thresholds, linear maps, missing data, bands, per-segment models, reasons."""

from __future__ import annotations

from datetime import date

import ibis
import pyarrow as pa
import pytest

from quarterdeck.health.definitions import HealthModels
from quarterdeck.health.health_scores import health_coverage, health_scores, score_features

T = date(2024, 6, 30)
COMPONENTS = [
    {"feature": "events_per_seat_30d", "weight": 3, "linear": {"from": 0, "to": 10}},
    {"feature": "urgent_tickets_30d", "weight": 1,
     "thresholds": [{"below": 1, "score": 100}, {"below": 3, "score": 50}, {"score": 0}]},
]


def _models(**extra) -> HealthModels:
    return HealthModels.model_validate(
        {"models": [{"name": "main", "components": COMPONENTS}], **extra})


def _features(rows: list[dict]) -> ibis.Table:
    cols = {"account_id": pa.string(), "as_of": pa.date32(), "segment": pa.string(),
            "events_per_seat_30d": pa.float64(), "urgent_tickets_30d": pa.int64()}
    full = [{"as_of": T, "segment": None, **r} for r in rows]
    return ibis.memtable(pa.Table.from_pylist(full, schema=pa.schema(cols)))


def _score(rows: list[dict], models: HealthModels | None = None) -> dict[str, dict]:
    t = score_features(_features(rows), models or _models()).to_pyarrow().to_pylist()
    return {r["account_id"]: r for r in t}


def test_linear_and_thresholds_weighted():
    s = _score([{"account_id": "a", "events_per_seat_30d": 2.5, "urgent_tickets_30d": 2},
                {"account_id": "b", "events_per_seat_30d": 12.0, "urgent_tickets_30d": 0},
                {"account_id": "c", "events_per_seat_30d": -1.0, "urgent_tickets_30d": 3}])
    # a: 25 points × 3 + 50 × 1 → 125 / 4 = 31.25; b: clamped 100 and 100; c: 0 and 0
    assert s["a"]["events_per_seat_30d_points"] == 25.0
    assert s["a"]["urgent_tickets_30d_points"] == 50.0
    assert s["a"]["score"] == 31.3  # rounded to one decimal
    assert (s["b"]["score"], s["c"]["score"]) == (100.0, 0.0)


def test_missing_value_is_skipped_and_weights_renormalised():
    s = _score([{"account_id": "a", "events_per_seat_30d": 6.0, "urgent_tickets_30d": None}])
    assert s["a"]["score"] == 60.0  # only the usage component, weight 3 of 3
    assert s["a"]["weight_covered"] == 0.75


def test_too_little_data_gives_no_score_and_coverage_names_what_is_missing():
    rows = [{"account_id": "a", "events_per_seat_30d": None, "urgent_tickets_30d": 1},
            {"account_id": "b", "events_per_seat_30d": 1.0, "urgent_tickets_30d": 0}]
    s = _score(rows)
    assert s["a"]["score"] is None  # 25% of the weight < 50%
    cov = {r["account_id"]: r for r in
           health_coverage(_features(rows), _models(), as_of=T).to_pyarrow().to_pylist()}
    assert cov["a"]["reason"] == "too little data: events_per_seat_30d missing"
    assert cov["b"]["reason"] == "scored"


def test_bands_default_and_configured():
    rows = [{"account_id": k, "events_per_seat_30d": v, "urgent_tickets_30d": 0}
            for k, v in (("red", 1.0), ("yellow", 5.0), ("green", 9.0))]
    # scores: (10·3+100)/4 = 32.5, (50·3+100)/4 = 62.5, (90·3+100)/4 = 92.5
    s = _score(rows)
    assert {k: r["band"] for k, r in s.items()} == {"red": "red", "yellow": "yellow",
                                                     "green": "green"}
    s = _score(rows, _models(bands={"red": 65, "yellow": 95}))
    assert [s[k]["band"] for k in ("red", "yellow", "green")] == ["red", "red", "yellow"]


def test_segment_model_applies_to_its_segment_and_default_to_the_rest():
    models = HealthModels.model_validate({"models": [
        {"name": "smb", "segments": ["SMB"], "components": [COMPONENTS[1]]},
        {"name": "rest", "components": [COMPONENTS[0]]}]})
    rows = [{"account_id": "s", "segment": "SMB", "events_per_seat_30d": 10.0,
             "urgent_tickets_30d": 3},
            {"account_id": "e", "segment": "Enterprise", "events_per_seat_30d": 10.0,
             "urgent_tickets_30d": 3}]
    s = _score(rows, models)
    assert (s["s"]["model"], s["s"]["score"]) == ("smb", 0.0)
    assert (s["e"]["model"], s["e"]["score"]) == ("rest", 100.0)
    assert s["s"]["events_per_seat_30d_points"] is None  # not in its model


def test_reasons_name_the_components_pulling_down_most_and_change_is_measured():
    rows = [{"account_id": "a", "as_of": T, "events_per_seat_30d": 2.0,
             "urgent_tickets_30d": 2},
            {"account_id": "a", "as_of": date(2024, 6, 23), "events_per_seat_30d": 4.0,
             "urgent_tickets_30d": 0}]
    r = health_scores(_features(rows), _models(), as_of=T).to_pyarrow().to_pylist()[0]
    # now (20·3 + 50) / 4 = 27.5; a week ago (40·3 + 100) / 4 = 55
    assert r["score"] == pytest.approx(27.5, abs=0.06)
    assert r["change_7d"] == pytest.approx(-27.5, abs=0.1)
    assert r["score_30d_ago"] is None
    assert r["reason_1"] == "events per seat in 30 days: 2.0"
    assert r["reason_2"] == "2 urgent tickets in 30 days"
