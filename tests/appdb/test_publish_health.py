"""Publishing a day's health scores and churn risk replaces that day atomically."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest
from sqlalchemy import Engine, insert, select

from quarterdeck.appdb import session
from quarterdeck.appdb.models import ChurnRisk, HealthScore
from quarterdeck.appdb.publish import PublishError
from quarterdeck.appdb.publish_health import churn_risk_rows, health_score_rows, publish_health

DAY = date(2024, 6, 30)
OTHER_DAY = date(2024, 6, 29)


def scores(day: date, rows: list[tuple[str, float | None]]) -> pa.Table:
    """health_scores output for (account_id, score) pairs: red under 40, one component."""
    n = len(rows)
    band = [None if s is None else ("red" if s < 40 else "green") for _, s in rows]
    return pa.table({
        "account_id": [a for a, _ in rows], "as_of": pa.array([day] * n, pa.date32()),
        "segment": ["SMB"] * n, "model": ["default"] * n,
        "score": pa.array([s for _, s in rows], pa.float64()), "band": band,
        "weight_covered": [1.0] * n, "score_7d_ago": [50.0] * n, "score_30d_ago": [None] * n,
        "change_7d": pa.array([None if s is None else s - 50 for _, s in rows], pa.float64()),
        "change_30d": pa.array([None] * n, pa.float64()),
        "reason_1": ["2 urgent tickets in 30 days" if b == "red" else None for b in band],
        "reason_2": pa.array([None] * n, pa.string()), "reason_3": pa.array([None] * n,
                                                                           pa.string()),
        "reasons": ["2 urgent tickets in 30 days" if b == "red" else None for b in band],
        "urgent_tickets_30d": [2] * n,
        "urgent_tickets_30d_points": pa.array([0.0] * n, pa.float64()),
    })


def risk(day: date, rows: list[tuple[str, float]]) -> pa.Table:
    n = len(rows)
    return pa.table({
        "account_id": [a for a, _ in rows], "as_of": pa.array([day] * n, pa.date32()),
        "churn_probability": [p for _, p in rows],
        "horizon": pa.array([date(2024, 9, 30)] * n, pa.date32()),
        "reason_1": ["latest NPS 2"] * n, "reason_2": ["usage down 45% in 30 days"] * n,
        "reason_3": pa.array([None] * n, pa.string()),
        "reasons": ["latest NPS 2; usage down 45% in 30 days"] * n,
        "model": ["boosted"] * n, "model_version": ["2024-06-30"] * n,
    })


def published(engine: Engine) -> tuple[dict, dict]:
    with session(engine) as s:
        h = {(r.as_of, r.account_id): r for r in s.scalars(select(HealthScore))}
        c = {(r.as_of, r.account_id): r for r in s.scalars(select(ChurnRisk))}
    return h, c


def test_publish_writes_scores_with_reasons_and_components(engine: Engine) -> None:
    assert publish_health(engine, as_of=DAY, health_scores=scores(DAY, [("a", 20.0),
                                                                        ("b", None)]),
                          churn_risk=risk(DAY, [("a", 0.7)])) == (2, 1)
    h, c = published(engine)
    a = h[(DAY, "a")]
    assert (a.score, a.band, a.change_7d, a.change_30d) == (20.0, "red", -30.0, None)
    assert a.reasons == ["2 urgent tickets in 30 days"]
    assert a.components == {"urgent_tickets_30d": {"value": 2, "points": 0.0}}
    assert h[(DAY, "b")].score is None and h[(DAY, "b")].reasons is None
    r = c[(DAY, "a")]
    assert (r.churn_probability, r.horizon, r.model, r.model_version) == (
        0.7, date(2024, 9, 30), "boosted", "2024-06-30")
    assert r.reasons == ["latest NPS 2", "usage down 45% in 30 days"]


def test_republishing_a_day_replaces_it_and_leaves_other_days(engine: Engine) -> None:
    publish_health(engine, as_of=OTHER_DAY, health_scores=scores(OTHER_DAY, [("a", 80.0)]),
                   churn_risk=risk(OTHER_DAY, [("a", 0.1)]))
    publish_health(engine, as_of=DAY, health_scores=scores(DAY, [("a", 20.0), ("b", 90.0)]),
                   churn_risk=risk(DAY, [("a", 0.7), ("b", 0.05)]))
    publish_health(engine, as_of=DAY, health_scores=scores(DAY, [("b", 85.0)]),
                   churn_risk=None)  # no churn model this time: nothing stale stays
    h, c = published(engine)
    assert sorted(h) == [(OTHER_DAY, "a"), (DAY, "b")] and h[(DAY, "b")].score == 85.0
    assert sorted(c) == [(OTHER_DAY, "a")]


def test_a_failed_publish_leaves_the_day_as_it_was(engine: Engine) -> None:
    publish_health(engine, as_of=DAY, health_scores=scores(DAY, [("a", 20.0)]),
                   churn_risk=risk(DAY, [("a", 0.7)]))
    duplicate = risk(DAY, [("b", 0.2), ("b", 0.3)])  # fails on the primary key, mid-way
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        publish_health(engine, as_of=DAY, health_scores=scores(DAY, [("b", 90.0)]),
                       churn_risk=duplicate)
    h, c = published(engine)
    assert sorted(h) == [(DAY, "a")] and sorted(c) == [(DAY, "a")]
    with pytest.raises(PublishError, match="holds rows as of 2024-06-29"):
        publish_health(engine, as_of=DAY, health_scores=scores(OTHER_DAY, [("a", 1.0)]),
                       churn_risk=None)


def test_the_window_probability_and_the_reasons_direction_are_published(engine: Engine) -> None:
    table = risk(DAY, [("a", 0.2), ("b", 0.2)])
    for name, values in (("churn_probability_window", pa.array([0.488, 0.001])),
                         ("window_days", pa.array([90, 90], pa.int32())),
                         ("reasons_direction", pa.array(["raises", "lowers"]))):
        table = table.append_column(name, values)
    publish_health(engine, as_of=DAY, health_scores=scores(DAY, [("a", 20.0), ("b", 90.0)]),
                   churn_risk=table)
    _, c = published(engine)
    a, b = c[(DAY, "a")], c[(DAY, "b")]
    assert (a.churn_probability, a.churn_probability_window, a.window_days) == (0.2, 0.488, 90)
    assert (b.churn_probability_window, b.reasons_direction) == (0.001, "lowers")
    old = publish_health(engine, as_of=OTHER_DAY, health_scores=scores(OTHER_DAY, []),
                         churn_risk=risk(OTHER_DAY, [("a", 0.3)]))
    assert old == (0, 1)
    assert published(engine)[1][(OTHER_DAY, "a")].churn_probability_window is None


def test_the_bulk_insert_stores_what_an_orm_insert_stores(engine: Engine) -> None:
    """Every value as a statement per row would store it: JSON (nested, unicode, quotes), NULL
    for a missing list or object, NaN and infinities as NULL, the window columns."""
    table = scores(DAY, [("a", 20.0), ("b", None), ("ç\"'", 99.5)])
    table = table.set_column(table.column_names.index("change_7d"), "change_7d",
                             pa.array([float("nan"), None, float("inf")], pa.float64()))
    table = table.set_column(table.column_names.index("reason_1"), "reason_1",
                             pa.array(['«usage» down "45%"', None, "ok"]))
    table = table.set_column(table.column_names.index("urgent_tickets_30d_points"),
                             "urgent_tickets_30d_points", pa.array([0.25, None, float("nan")]))
    table = table.append_column("data_warnings", pa.array(["events stale\nsurveys", None, ""]))
    churn = risk(DAY, [("a", 0.7), ("b", 0.0)])
    for name, values in (("churn_probability_window", pa.array([0.5, None])),
                         ("window_days", pa.array([90, None], pa.int32())),
                         ("reasons_direction", pa.array(["raises", None]))):
        churn = churn.append_column(name, values)
    publish_health(engine, as_of=DAY, health_scores=table, churn_risk=churn)
    with engine.begin() as connection:  # the rows as statements per row would write them
        connection.execute(insert(HealthScore), [{"as_of": OTHER_DAY, **row}
                                                 for row in health_score_rows(table)])
        connection.execute(insert(ChurnRisk), [{"as_of": OTHER_DAY, **row}
                                               for row in churn_risk_rows(churn)])

    def stored(name: str, day: date) -> list[tuple]:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.exec_driver_sql(
                f"SELECT * FROM {name} WHERE as_of = '{day}' ORDER BY account_id")]

    for name in ("health_scores", "churn_risk"):
        bulk, orm = stored(name, DAY), stored(name, OTHER_DAY)
        assert len(bulk) == len(orm) > 0
        assert [r[1:] for r in bulk] == [r[1:] for r in orm]  # all but as_of
    h, _ = published(engine)
    assert h[(DAY, "a")].change_7d is None and h[(DAY, "ç\"'")].change_7d is None
    assert h[(DAY, "a")].reasons == ['«usage» down "45%"']
    assert h[(DAY, "ç\"'")].components == {"urgent_tickets_30d": {"value": 2, "points": None}}
