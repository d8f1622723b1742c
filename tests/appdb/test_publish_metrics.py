"""The revenue series `quarterdeck run` publishes for the leadership page: on the leadership
world (quarterdeck.testing.leadership_world) they are the hand-worked figures and cell for cell
what `quarterdeck export mrr_bridge` and `retention` give for the same day and shape; a day's
publish replaces that day only."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import Engine, select

from quarterdeck.appdb import make_engine
from quarterdeck.appdb.metric_series_models import MetricSeries
from quarterdeck.appdb.publish import PublishError
from quarterdeck.appdb.publish_metrics import publish_metric_series, series_start
from quarterdeck.testing.leadership_world import AS_OF, leadership_world, write_world
from tests.cli_runner import qd

D = Decimal
KEYS = ("period", "period_start", "period_end", "window_start", "window_months", "segment")


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("leadership-series")
    qd("init", root / "ws")
    qd("load", write_world(leadership_world(), root / "data"), "--workspace", root / "ws")
    qd("run", "--as-of", AS_OF, "--workspace", root / "ws")
    return root / "ws"


@pytest.fixture(scope="module")
def published(ws: Path) -> dict[tuple[str, str, str], MetricSeries]:
    engine = make_engine(f"sqlite:///{ws / 'data' / 'app.db'}")
    with engine.connect() as conn:
        rows = conn.execute(select(MetricSeries).where(MetricSeries.as_of == AS_OF)).all()
    engine.dispose()
    return {(r.metric, r.segment, r.period): r for r in rows}


def export(ws: Path, metric: str) -> list[dict[str, str]]:
    out = ws / "exports" / f"{metric}.csv"
    qd("export", metric, "--as-of", AS_OF, "--grain", "month", "--by", "segment", "--window",
       12, "--start", series_start(AS_OF), "--out", out, "--workspace", ws)
    return list(csv.DictReader(io.StringIO(out.read_text())))


def test_the_series_start_eleven_months_before_the_day() -> None:
    assert series_start(date(2025, 6, 30)) == date(2024, 7, 1)
    assert series_start(date(2026, 1, 15)) == date(2025, 2, 1)


def test_the_june_bridge_is_the_hand_worked_one(published) -> None:
    def june(figure: str, segment: str = "all") -> Decimal:
        return published[(f"mrr_bridge.{figure}", segment, "2025-06")].value

    assert (june("starting_arr"), june("ending_arr")) == (D("22200"), D("24600"))
    assert (june("new"), june("expansion"), june("churn"), june("contraction")) == (
        D("100"), D("300"), D("-200"), D("0"))
    assert (june("starting_customers"), june("new_customers"), june("churned_customers"),
            june("ending_customers")) == (4, 1, 1, 4)
    assert (june("starting_mrr", "Enterprise"), june("ending_mrr", "Enterprise")) == (1500, 1800)
    assert (june("starting_mrr", "SMB"), june("ending_mrr", "SMB")) == (350, 250)
    assert published[("mrr_bridge.contraction", "SMB", "2025-03")].value == D("-150")


def test_trailing_retention_is_the_hand_worked_one(published) -> None:
    def ratio(figure: str, segment: str = "all") -> float:
        return float(published[(f"retention.{figure}", segment, "2025-06")].value)

    assert (ratio("nrr"), ratio("grr"), ratio("logo_churn")) == (0.975, 0.825, 0.25)
    assert (ratio("nrr", "Enterprise"), ratio("grr", "Enterprise")) == (1.2, 1.0)
    assert (ratio("nrr", "SMB"), ratio("grr", "SMB"), ratio("logo_churn", "SMB")) == (
        0.3, 0.3, 0.5)


def test_the_series_cover_the_twelve_months_ending_on_the_day(published) -> None:
    months = {period for _, _, period in published}
    assert months == {f"{2024 + (6 + i) // 12}-{(6 + i) % 12 + 1:02d}" for i in range(12)}
    assert max(r.period_end for r in published.values()) == AS_OF
    assert {segment for _, segment, _ in published} == {"all", "Enterprise", "SMB"}


@pytest.mark.parametrize("metric", ["mrr_bridge", "retention"])
def test_every_published_figure_equals_the_export_of_the_same_day(ws, published,
                                                                  metric) -> None:
    rows = export(ws, metric)
    assert rows
    exported = {(f"{metric}.{column}", row["segment"] or "(none)", row["period"]): value
                for row in rows for column, value in row.items() if column not in KEYS}
    mine = {k: r for k, r in published.items() if k[0].startswith(metric + ".")}
    assert mine.keys() == exported.keys()
    for key, value in exported.items():
        got = mine[key].value
        if value == "":
            assert got is None, key
        elif "." in value and key[0].split(".")[1] in ("nrr", "grr", "logo_churn",
                                                       "revenue_churn", "expansion_rate",
                                                       "contraction_rate"):
            assert float(got) == pytest.approx(float(value), abs=1e-9), key
        else:
            assert got == D(value), key


def _bridge(period: str, end: date, ending_arr: str) -> pa.Table:
    return pa.table({"period": [period], "period_start": [end.replace(day=1)],
                     "period_end": [end], "segment": ["all"],
                     "ending_arr": pa.array([D(ending_arr)], pa.decimal128(38, 2)),
                     "ending_customers": pa.array([3], pa.int64())})


def _rows(engine: Engine, day: date) -> dict[tuple[str, str], Decimal]:
    with engine.connect() as conn:
        return {(r.metric, r.period): r.value for r in conn.execute(
            select(MetricSeries).where(MetricSeries.as_of == day))}


def test_publishing_a_day_again_replaces_that_day_only(engine: Engine) -> None:
    may, june = date(2025, 5, 31), date(2025, 6, 30)
    assert publish_metric_series(engine, as_of=may, tables={
        "mrr_bridge": _bridge("2025-05", may, "1000.00")}) == 2
    publish_metric_series(engine, as_of=june, tables={
        "mrr_bridge": _bridge("2025-06", june, "1200.00")})
    publish_metric_series(engine, as_of=june, tables={
        "mrr_bridge": _bridge("2025-06", june, "1300.50")})
    assert _rows(engine, june) == {("mrr_bridge.ending_arr", "2025-06"): D("1300.50"),
                                   ("mrr_bridge.ending_customers", "2025-06"): 3}
    assert _rows(engine, may)[("mrr_bridge.ending_arr", "2025-05")] == D("1000.00")


def test_series_past_the_day_or_of_another_metric_are_refused(engine: Engine) -> None:
    with pytest.raises(PublishError, match="run to 2025-06-30"):
        publish_metric_series(engine, as_of=date(2025, 6, 15), tables={
            "mrr_bridge": _bridge("2025-06", date(2025, 6, 30), "1.00")})
    with pytest.raises(PublishError, match="cannot publish cohorts"):
        publish_metric_series(engine, as_of=date(2025, 6, 30), tables={
            "cohorts": _bridge("2025-06", date(2025, 6, 30), "1.00")})
    assert _rows(engine, date(2025, 6, 30)) == {}
