"""The leadership page and `/api/leadership` on the app's small world (tests/app/conftest.py)
with its revenue series, health of three days, forecast, book and data-quality report
published: every figure is the published one, links lead to its definition and the accounts
behind it, and a day that was not published is an error page.

Hand-made series of 30 June 2024 (MRR; ARR = 12 ×): Enterprise 20,000.00 + 833.33 expansion
= 20,833.33; Mid-Market 5,000.00 − 1,000.00 churn (Umbrella, 1 logo) = 4,000.00; SMB 700.00
− 200.00 contraction = 500.00; all 25,700.00 → 25,333.33, ARR 308,400.00 → 303,999.96 (the
snapshot's total). Health 30 days earlier (31 May): Acme red, Hooli green, Initech yellow, so
Acme improved and Hooli and Initech (to red) worsened by 30 June.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from quarterdeck.app import create_app
from quarterdeck.app.pages.leadership import signed_money
from quarterdeck.appdb import make_engine, publish_snapshot
from quarterdeck.appdb.data_age import publish_stale_data
from quarterdeck.appdb.metric_series_models import MetricSeries
from quarterdeck.appdb.ops_metrics import ops_metrics
from quarterdeck.appdb.publish_forecast import publish_forecast
from quarterdeck.appdb.publish_health import publish_health
from quarterdeck.appdb.publish_metrics import publish_metric_series
from quarterdeck.appdb.publish_quality import publish_quality
from quarterdeck.quality.data_age import DataAge
from quarterdeck.quality.report import CheckResult, QualityReport
from quarterdeck.testing.postgres import BACKEND_PARAMS, database_url_for
from tests.app.conftest import AS_OF, accounts_table, build_world, health_table, sign_in
from tests.app.test_book_pages import publish_book

D = Decimal
MAY = date(2024, 5, 31)
MONTHS = [("2024-05", date(2024, 5, 1), MAY), ("2024-06", date(2024, 6, 1), AS_OF)]
MOVES = ("new", "expansion", "contraction", "churn", "reactivation", "fx_adjustment")
# segment → month → (starting MRR, {movement: MRR}, (start, new, churned, react., end))
# fmt: off
BRIDGE = {
    "enterprise": {"2024-05": ("20000.00", {}, (3, 0, 0, 0, 3)),
                   "2024-06": ("20000.00", {"expansion": "833.33"}, (3, 0, 0, 0, 3))},
    "mid-market": {"2024-05": ("5000.00", {}, (2, 0, 0, 0, 2)),
                   "2024-06": ("5000.00", {"churn": "-1000.00"}, (2, 0, 1, 0, 1))},
    "smb": {"2024-05": ("0.00", {"new": "700.00"}, (0, 1, 0, 0, 1)),
            "2024-06": ("700.00", {"contraction": "-200.00"}, (1, 0, 0, 0, 1))},
}
# segment → (nrr, grr, logo_churn, cohort) over the 12 months to 30 June 2024
RETENTION = {"enterprise": (1.041667, 1.0, 0.0, 3), "mid-market": (0.8, 0.8, 0.5, 2),
             "smb": (0.714286, 0.714286, 0.0, 1), "all": (0.98, 0.9, 0.2, 5)}
# fmt: on


def _bridge_row(segment: str, period: tuple[str, date, date], start: D,
                moves: dict[str, D], counts: tuple[int, ...]) -> dict[str, Any]:
    end = start + sum(moves.values(), D(0))
    return {"period": period[0], "period_start": period[1], "period_end": period[2],
            "segment": segment, "starting_mrr": start,
            **{m: moves.get(m, D("0.00")) for m in MOVES}, "ending_mrr": end,
            "starting_arr": start * 12, "ending_arr": end * 12,
            **dict(zip(("starting_customers", "new_customers", "churned_customers",
                        "reactivated_customers", "ending_customers"), counts, strict=True))}


def bridge_table() -> pa.Table:
    """`mrr_bridge` by segment, with its "all" rows, as the export gives it."""
    rows = []
    for period in MONTHS:
        parts = [_bridge_row(s, period, D(m[period[0]][0]),
                             {k: D(v) for k, v in m[period[0]][1].items()}, m[period[0]][2])
                 for s, m in BRIDGE.items()]
        total = {k: sum((p[k] for p in parts), D(0)) if isinstance(parts[0][k], D)
                 else sum(p[k] for p in parts) if isinstance(parts[0][k], int) else parts[0][k]
                 for k in parts[0]}
        rows += [*parts, {**total, "segment": "all"}]
    money = pa.decimal128(38, 2)
    return pa.Table.from_pylist(rows, schema=pa.schema(
        [("period", pa.string()), ("period_start", pa.date32()), ("period_end", pa.date32()),
         ("segment", pa.string()), ("starting_mrr", money), *[(m, money) for m in MOVES],
         ("ending_mrr", money), ("starting_arr", money), ("ending_arr", money),
         *[(c, pa.int64()) for c in ("starting_customers", "new_customers",
                                     "churned_customers", "reactivated_customers",
                                     "ending_customers")]]))


def retention_table() -> pa.Table:
    """Trailing-12-month `retention` of June by segment (May: no cohort anywhere)."""
    rows = [{"period": "2024-05", "period_start": MONTHS[0][1], "period_end": MAY,
             "window_start": date(2023, 5, 31), "window_months": 12, "segment": "all",
             "cohort_customers": 0, "nrr": None, "grr": None, "logo_churn": None}]
    rows += [{"period": "2024-06", "period_start": MONTHS[1][1], "period_end": AS_OF,
              "window_start": date(2023, 6, 30), "window_months": 12, "segment": s,
              "cohort_customers": cohort, "nrr": nrr, "grr": grr, "logo_churn": logo}
             for s, (nrr, grr, logo, cohort) in RETENTION.items()]
    return pa.Table.from_pylist(rows, schema=pa.schema(
        [("period", pa.string()), ("period_start", pa.date32()), ("period_end", pa.date32()),
         ("window_start", pa.date32()), ("window_months", pa.int64()), ("segment", pa.string()),
         ("cohort_customers", pa.int64()), ("nrr", pa.float64()), ("grr", pa.float64()),
         ("logo_churn", pa.float64())]))


def _health_of_may() -> pa.Table:
    table = health_table(MAY)
    bands = {"acme": "red", "hooli": "green", "initech": "yellow"}
    return table.set_column(table.column_names.index("band"), "band", pa.array(
        [bands.get(a) for a in table["account_id"].to_pylist()], pa.string()))


def _forecast() -> tuple[pa.Table, dict[str, pa.Table]]:
    decisions = pa.Table.from_pylist([
        {"renewal_id": f"{a}@{d}", "account_id": a, "segment": seg, "owner_email": owner,
         "term": "annual", "term_months": 12, "renewal_date": d, "arr_at_stake": D(arr),
         "cancellation_known": False, "p_renew": p, "p_reached": 1.0,
         "expected_arr": D(arr) * D(str(p)), "model_days_before": 60, "category": call}
        for a, seg, owner, d, arr, p, call in [
            ("acme", "enterprise", "ana@example.com", date(2024, 8, 15), "120000.00", 0.9,
             "commit"),
            ("initech", "smb", "ben@example.com", date(2024, 9, 1), "6000.00", 0.4, None),
            ("hooli", "enterprise", None, date(2024, 11, 30), "99999.96", 0.8, None)]])

    def quarter(period: str, start: date, end: date, n: int, arr: str, expected: str,
                low: str, high: str, committed: str) -> dict[str, Any]:
        return {"period": period, "period_start": start, "period_end": end, "renewals": n,
                "arr_at_stake": D(arr), "expected_arr_at_stake": D(arr),
                "expected_arr": D(expected), "low_arr": D(low), "high_arr": D(high),
                "interval_method": "exact", "committed_arr": D(committed),
                "best_case_arr": D(committed), "expected_gross_renewal_rate": 0.87,
                "expected_net_renewal_rate": 0.9}

    quarters = pa.Table.from_pylist([
        quarter("2024-Q3", date(2024, 7, 1), date(2024, 9, 30), 2, "126000.00", "110400.00",
                "102000.00", "126000.00", "120000.00"),
        quarter("2024-Q4", date(2024, 10, 1), date(2024, 12, 31), 1, "99999.96", "79999.97",
                "0.00", "99999.96", "0.00")])
    return decisions, {"quarter": quarters}


def _quality() -> QualityReport:
    def check(source: str, entity: str, status: str, newest: datetime) -> CheckResult:
        return CheckResult(source=source, entity=entity, check="freshness",
                           rule="expected_every", field="", passed=None, failed=None,
                           severity="warning", threshold=None, status=status,
                           detail=f"newest {entity} row {newest:%Y-%m-%d}", newest_at=newest)

    return QualityReport(AS_OF, [
        check("billing", "subscriptions", "ok", datetime(2024, 6, 30, 8, tzinfo=UTC)),
        check("support", "tickets", "warning", datetime(2024, 6, 2, 8, tzinfo=UTC)),
        CheckResult(source="files", entity="accounts", check="completeness", rule="required",
                    field="owner_email", passed=5, failed=1, severity="error", threshold=0.0,
                    status="error", detail="1 account has no owner")])


EARLIER = date(2024, 5, 31)  # a published day without revenue series or book


def publish_leadership(url: str) -> None:
    """The app's world plus everything the leadership page reads, as of `AS_OF`."""
    build_world(url)
    publish_book(url)
    engine = make_engine(url)
    publish_snapshot(engine, as_of=EARLIER, accounts=accounts_table(),
                     arr_history=pa.table({"account_id": pa.array([], pa.string()),
                                           "month": pa.array([], pa.date32()),
                                           "arr": pa.array([], pa.decimal128(18, 2))}),
                     run_started_at=datetime(2024, 6, 1, 2, tzinfo=UTC))
    publish_health(engine, as_of=MAY, health_scores=_health_of_may(), churn_risk=None)
    publish_metric_series(engine, as_of=AS_OF, tables={"mrr_bridge": bridge_table(),
                                                       "retention": retention_table()})
    decisions, periods = _forecast()
    publish_forecast(engine, as_of=AS_OF, forecast=decisions, periods=periods)
    publish_quality(engine, _quality())
    publish_stale_data(engine, AS_OF, [DataAge("tickets", date(2024, 6, 2), AS_OF)])
    engine.dispose()


@pytest.fixture(scope="module", params=BACKEND_PARAMS)
def app(request: pytest.FixtureRequest,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The web app over the world, once per app database backend."""
    with database_url_for(request.param, tmp_path_factory.mktemp("leadership")) as url:
        publish_leadership(url)
        app = create_app(url, secret_key="test-secret", workspace_name="Example Co")
        yield app
        app.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return sign_in(TestClient(app), "admin@example.com")


@pytest.fixture(scope="module")
def published(app: FastAPI) -> dict[tuple[str, str, str], Decimal | None]:
    with app.state.engine.connect() as conn:
        return {(r.metric, r.segment, r.period): r.value for r in conn.execute(
            select(MetricSeries).where(MetricSeries.as_of == AS_OF))}


def test_the_page_says_its_day_and_draws_the_bridge_and_trends(client) -> None:
    page = client.get("/leadership")
    assert page.status_code == 200
    html = page.text
    assert "Figures as of <strong>Jun 30, 2024</strong>" in html
    assert '<a href="/leadership" aria-current="page">Leadership</a>' in html
    assert 'class="chart waterfall"' in html and html.count('class="chart trend"') == 2
    assert "ARR bridge of June 2024" in html and "Logos churned per month by segment" in html
    # the stale-data banner of the day shown
    assert "These figures are as of a day later than the newest data" in html
    assert "The newest ticket data is from 2024-06-02" in html


def test_the_headline_and_bridge_are_the_published_figures(client, published) -> None:
    html = client.get("/leadership").text

    def june(figure: str, segment: str = "all") -> Decimal:
        return published[(f"mrr_bridge.{figure}", segment, "2024-06")]

    assert june("ending_arr") == D("303999.96")
    assert 'id="headline-arr">$304,000<' in html
    assert 'id="headline-net-new">−$4,400<' in html  # 303,999.96 − 308,400.00
    # each movement of the month, as ARR (12 × the published MRR)
    for move in MOVES:
        assert f'data-movement="{move}">{signed_money(june(move) * 12, "USD")}<' in html, move
    assert 'data-movement="expansion">+$10,000<' in html  # 12 × 833.33 = 9,999.96
    assert 'data-movement="churn">−$12,000<' in html
    assert 'id="headline-nrr">98.0%<' in html and 'id="headline-grr">90.0%<' in html
    assert 'id="headline-logos">1<' in html


def test_the_api_gives_the_published_series(client, published) -> None:
    body = client.get("/api/leadership").json()
    assert body["as_of"] == "2024-06-30"
    revenue = body["revenue"]
    assert [m["period"] for m in revenue["months"]] == ["2024-05", "2024-06"]
    latest = revenue["latest"]
    for move in MOVES:
        assert D(latest[move]) == published[(f"mrr_bridge.{move}", "all", "2024-06")] * 12
    assert D(latest["starting_arr"]) == published[("mrr_bridge.starting_arr", "all",
                                                   "2024-06")]
    assert latest["churned_customers"] == 1
    assert [s["segment"] for s in revenue["segments"]] == ["enterprise", "mid-market", "smb"]
    by_segment = {s["segment"]: s for s in revenue["segments"]}
    for segment, (_, grr, logo, cohort) in RETENTION.items():
        if segment == "all":
            row = revenue["retention"][-1]
        else:
            row = by_segment[segment]["retention"]
        assert row["nrr"] == pytest.approx(float(published[("retention.nrr", segment,
                                                            "2024-06")]))
        assert (row["grr"], row["logo_churn"], row["cohort_customers"]) == pytest.approx(
            (grr, logo, cohort))
    assert revenue["retention"][0]["nrr"] is None  # May: nobody paid a year before
    assert revenue["logo_churn"] == {"enterprise": [0, 0], "mid-market": [0, 1], "smb": [0, 0]}
    assert by_segment["mid-market"]["logos_churned_12m"] == 1


def test_health_counts_the_paying_accounts_as_the_account_list_does(client) -> None:
    health = client.get("/api/leadership").json()["health"]
    bands = {b["band"]: (b["accounts"], D(b["arr"])) for b in health["bands"]}
    assert bands == {"red": (1, D("6000.00")), "yellow": (1, D("99999.96")),
                     "green": (1, D("120000.00")), "none": (2, D("78000.00"))}
    assert (health["accounts"], D(health["arr"])) == (5, D("303999.96"))
    for band, (count, arr) in bands.items():
        listed = client.get("/api/accounts", params={"band": band}).json()
        assert (listed["total"], D(listed["total_arr"])) == (count, arr), band
    html = client.get("/leadership").text
    assert 'href="/accounts?band=red"' in html and 'href="/accounts?band=none"' in html


def test_movement_compares_the_bands_of_7_and_30_days_before(client) -> None:
    week, month = client.get("/api/leadership").json()["movement"]
    assert (week["days"], week["compared_with"], week["scored_both"]) == (7, "2024-06-23", 3)
    assert (week["improved"], week["worsened"]) == (0, 0)
    assert (month["days"], month["compared_with"]) == (30, "2024-05-31")
    assert (month["improved"], D(month["improved_arr"])) == (1, D("120000.00"))
    assert (month["worsened"], D(month["worsened_arr"]), month["to_red"]) == (
        2, D("105999.96"), 1)
    assert month["matrix"]["red"]["green"] == 1 and month["matrix"]["yellow"]["red"] == 1
    assert [(a["account_id"], a["band_before"], a["band_now"])
            for a in month["worsened_accounts"]] == [("hooli", "green", "yellow"),
                                                     ("initech", "yellow", "red")]
    html = client.get("/leadership").text
    assert 'href="/accounts/hooli">Hooli</a> · Green →' in html


def test_the_forecast_is_the_published_one_by_quarter(client) -> None:
    forecast = client.get("/api/leadership").json()["forecast"]
    assert [q["period"] for q in forecast] == ["2024-Q3", "2024-Q4"]
    q3, q4 = forecast
    assert (q3["renewals"], D(q3["arr_at_stake"]), D(q3["expected_arr"]), D(q3["low_arr"]),
            D(q3["high_arr"]), D(q3["committed_arr"])) == (
        2, D("126000.00"), D("110400.00"), D("102000.00"), D("126000.00"), D("120000.00"))
    assert q3["covered_to"] == "2024-09-30" and q4["covered_to"] == "2024-12-27"
    assert [r["account_id"] for r in q3["largest"]] == ["acme", "initech"]
    html = client.get("/leadership").text
    assert "$102,000 – $126,000" in html and "to Dec 27, 2024" in html
    assert 'href="/accounts/acme">Acme Corp</a> · Aug 15, 2024' in html


def test_operations_are_the_ops_metrics_of_the_book(client, app) -> None:
    body = client.get("/api/leadership").json()
    expected = ops_metrics(app.state.engine, as_of=AS_OF, by="csm").to_pylist()
    assert body["operations_as_of"] == "2024-06-30"
    got = body["operations"]
    assert [r["group"] for r in got] == [r["group"] for r in expected]
    for mine, theirs in zip(got, expected, strict=True):
        for key in ("accounts", "utilisation", "capacity_flag", "execution_rate",
                    "overdue_tasks"):
            assert mine[key] == theirs[key], (mine["group"], key)
    html = client.get("/leadership").text
    assert 'href="/?owner=ana%40example.com">ana@example.com</a> <span class="badge bad">over' \
        in html


def test_quality_shows_the_reports_counts_and_freshness(client) -> None:
    quality = client.get("/api/leadership").json()["quality"]
    assert quality["as_of"] == "2024-06-30"
    assert quality["counts"] == {"error": 1, "warning": 1, "ok": 1}
    assert [(c["source"], c["status"]) for c in quality["freshness"]] == [
        ("billing", "ok"), ("support", "warning")]
    html = client.get("/leadership").text
    assert "2024-06-02 08:00 UTC" in html and 'href="/quality"' in html


def test_every_figure_links_to_a_definition_on_the_page(client) -> None:
    html = client.get("/leadership").text
    targets = set(re.findall(r'href="#def-([a-z_]+)"', html))
    defined = set(re.findall(r'id="def-([a-z_]+)"', html))
    assert {"arr", "bridge", "nrr", "grr", "logos_churned", "health_bands",
            "health_movement", "forecast", "ops_execution", "quality"} <= targets
    assert targets <= defined
    assert ("quarterdeck export mrr_bridge --as-of 2024-06-30 --grain month --by segment "
            "--start 2023-07-01") in html
    assert 'href="/accounts?segment=mid-market"' in html
    assert 'href="/accounts?status=churned&amp;segment=mid-market"' in html


def test_every_definition_points_to_its_section_of_the_docs() -> None:
    from pathlib import Path

    from quarterdeck.app.pages.leadership import definitions_for

    doc = (Path(__file__).resolve().parents[2] / "docs" / "leadership.md").read_text()
    for key, _, _, _, where in definitions_for(AS_OF):
        anchor = where.split("#")[1]
        assert f'<a id="{anchor}"></a>' in doc, (key, anchor)


def test_an_earlier_day_is_shown_when_asked_and_says_what_it_lacks(client) -> None:
    html = client.get("/leadership", params={"as_of": "2024-05-31"}).text
    assert "Figures as of <strong>May 31, 2024</strong>" in html
    assert "published no revenue series" in html
    assert '<option value="2024-05-31" selected>' in html
    assert "Account lists behind the figures show the latest published day" in html
    body = client.get("/api/leadership", params={"as_of": "2024-05-31"}).json()
    assert body["revenue"] is None and body["forecast"] is None
    assert body["health"]["health_as_of"] == "2024-05-31"
    assert body["published_days"] == ["2024-06-30", "2024-05-31"]


def test_a_bad_or_unpublished_day_is_an_error_page_and_a_json_error(client) -> None:
    bad = client.get("/leadership", params={"as_of": "30/06/2024"})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("text/html")
    assert "This page cannot show that" in bad.text and "as_of" in bad.text
    missing = client.get("/leadership", params={"as_of": "2024-06-29"})
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "Nothing was published as of 2024-06-29" in missing.text
    assert "2024-06-30" in missing.text
    api = client.get("/api/leadership", params={"as_of": "2024-06-29"})
    assert api.status_code == 404 and api.json()["error"] == "NotFound"
    assert client.get("/api/leadership", params={"as_of": "soon"}).status_code == 422


def test_before_anything_is_published_the_page_says_how_to_publish(tmp_path) -> None:
    from quarterdeck.appdb import add_user, migrate

    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = make_engine(url)
    migrate(engine)
    add_user(engine, "admin@example.com", "Admin", "admin", "a long enough test password")
    engine.dispose()
    app = create_app(url, secret_key="test-secret")
    client = sign_in(TestClient(app), "admin@example.com")
    page = client.get("/leadership")
    assert page.status_code == 200 and "Nothing published yet" in page.text
    assert client.get("/api/leadership").json()["as_of"] is None
    app.state.engine.dispose()


def test_the_published_bridge_balances(published) -> None:
    # The hand-made series are consistent: every month and segment's start + movements = end.
    for (metric, segment, period), end in published.items():
        if metric != "mrr_bridge.ending_mrr":
            continue
        start = published[("mrr_bridge.starting_mrr", segment, period)]
        moves = sum(published[(f"mrr_bridge.{m}", segment, period)] for m in MOVES)
        assert start + moves == end, (segment, period)
    arr = pc.sum(accounts_table()["arr"]).as_py()
    assert published[("mrr_bridge.ending_arr", "all", "2024-06")] == arr


def test_a_kept_page_follows_a_forecast_or_series_published_again(tmp_path) -> None:
    """The figures are computed once per state of the data and kept: a forecast, a call on a
    renewal or a revenue series published again shows on the next look."""
    from quarterdeck.app.leadership_queries import leadership
    from quarterdeck.appdb.publish_forecast import set_category

    url = f"sqlite:///{tmp_path / 'app.db'}"
    publish_leadership(url)
    engine = make_engine(url)
    try:
        first = leadership(engine)
        assert leadership(engine) is first  # nothing changed: the kept result
        decisions, periods = _forecast()
        periods["quarter"] = periods["quarter"].set_column(
            periods["quarter"].column_names.index("expected_arr"), "expected_arr",
            pa.array([D("111111.00"), D("79999.97")]))
        publish_forecast(engine, as_of=AS_OF, forecast=decisions, periods=periods)
        again = leadership(engine)
        assert again is not first and D(again.forecast[0].expected_arr) == D("111111.00")
        set_category(engine, "initech@2024-09-01", "commit", actor="ops")
        called = leadership(engine)
        assert called is not again
        publish_metric_series(engine, as_of=AS_OF, tables={"mrr_bridge": bridge_table(),
                                                           "retention": retention_table()})
        assert leadership(engine) is not called
    finally:
        engine.dispose()
