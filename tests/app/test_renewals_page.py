"""The renewals page and API over a forecast published by hand for the app's world.

As of 2024-06-30, five renewal decisions (`DECISIONS`), every gross factor 1:

| renewal | owner | ARR at stake | p_renew | expected |
|---|---|---|---|---|
| acme@2024-08-15 | ana | 120,000.00 | 0.90 | 108,000.00 |
| acme-eu@2024-08-15 | ana | 30,000.00 | 0.80 | 24,000.00 |
| initech@2024-09-01 | ben | 6,000.00 | 0.40 | 2,400.00 |
| globex@2024-10-15 | ben | 48,000.00 | 0.70 | 33,600.00 |
| hooli@2024-11-30 | nobody | 99,999.96 | 0.80 | 79,999.97 |

2024-Q3 (the quarter the page leads with): 156,000.00 at stake, 134,400.00 expected, expected
gross renewal rate 134,400 / 156,000 = 86.2%. The 90% interval by hand: nothing renews with
probability 0.1 × 0.2 × 0.6 = 0.012, only initech 0.008, only acme-eu 0.048 (0.068 ≥ 5%), so
the low end is 30,000; all three renew with 0.9 × 0.8 × 0.4 = 0.288, so the high end is
156,000. Initech is called at_risk when published; Ben's call on it is the only one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from quarterdeck.app import create_app
from quarterdeck.appdb import add_user, make_engine
from quarterdeck.appdb.database import session
from quarterdeck.appdb.forecast_models import RenewalCategory, RenewalCategoryChange
from quarterdeck.appdb.models import AuditLogEntry
from quarterdeck.appdb.publish_forecast import categories, publish_forecast, set_category
from quarterdeck.forecast.forecast_periods import forecast_periods
from quarterdeck.testing.postgres import BACKEND_PARAMS, database_url_for
from quarterdeck.testing.web_client import csrf_of
from tests.app.conftest import AS_OF, PASSWORD, build_world, sign_in

D = Decimal
ANA, BEN = "ana@example.com", "ben@example.com"
# account, segment, owner, renewal date, ARR at stake, p_renew, call when published
DECISIONS = [
    ("acme", "enterprise", ANA, date(2024, 8, 15), "120000.00", 0.9, None),
    ("acme-eu", "enterprise", ANA, date(2024, 8, 15), "30000.00", 0.8, None),
    ("initech", "smb", BEN, date(2024, 9, 1), "6000.00", 0.4, "at_risk"),
    ("globex", "mid-market", BEN, date(2024, 10, 15), "48000.00", 0.7, None),
    ("hooli", "enterprise", None, date(2024, 11, 30), "99999.96", 0.8, None),
]


def hand_forecast(calls: dict[str, str | None] | None = None) -> pa.Table:
    """`DECISIONS` as `renewal_forecast` rows (with `calls` by renewal id, if given)."""
    rows = []
    for account, segment, owner, when, arr, p, call in DECISIONS:
        rid = f"{account}@{when.isoformat()}"
        rows.append({
            "renewal_id": rid, "account_id": account, "segment": segment,
            "owner_email": owner, "term": "contract", "term_months": 12, "renewal_date": when,
            "days_out": (when - AS_OF).days, "decision_number": 1, "arr_at_stake": D(arr),
            "cancellation_known": False, "p_renew": p, "p_reached": 1.0,
            "expected_arr": (D(arr) * D(str(p))).quantize(D("0.01")), "gross_factor": 1.0,
            "net_factor": 1.0, "model": "hand-set", "model_days_before": 60,
            "model_as_of": AS_OF,
            "category": (calls or {}).get(rid, call), "note": None})
    return pa.Table.from_pylist(rows)


def publish_renewals(url: str) -> None:
    """Publish `DECISIONS` for `AS_OF` as `quarterdeck run` would, with Ben's call on
    initech, and add a viewer and a manager."""
    engine = make_engine(url)
    forecast = hand_forecast()
    publish_forecast(engine, as_of=AS_OF, forecast=forecast,
                     periods={g: forecast_periods(forecast, grain=g)
                              for g in ("month", "quarter")})
    set_category(engine, "initech@2024-09-01", "at_risk", actor=BEN, note="budget cut")
    add_user(engine, "vic@example.com", "Vic Viewer", "viewer", PASSWORD)
    engine.dispose()


@pytest.fixture(params=BACKEND_PARAMS)
def renewals_app(request: pytest.FixtureRequest, tmp_path) -> Iterator[FastAPI]:
    """The app over the world and its forecast, on SQLite and on PostgreSQL."""
    with database_url_for(request.param, tmp_path) as url:
        build_world(url)
        publish_renewals(url)
        app = create_app(url, secret_key="test-secret", workspace_name="Example Co")
        yield app
        app.state.engine.dispose()


def client_of(app: FastAPI, email: str = ANA) -> TestClient:
    return sign_in(TestClient(app), email)


def export_quarter(app: FastAPI, period: str) -> dict:
    """The quarter's row of `forecast_periods` over the decisions with the calls in force:
    what `quarterdeck export forecast_periods --grain quarter --horizon 180` computes."""
    calls = {r["renewal_id"]: r["category"] for r in categories(app.state.engine).to_pylist()}
    rows = forecast_periods(hand_forecast(calls), grain="quarter").to_pylist()
    return next(r for r in rows if r["period"] == period)


def money_text(value: float | Decimal) -> str:
    return f"${Decimal(str(value)).quantize(D(1)):,}"


def headline(html: str, key: str) -> str:
    found = re.search(rf'id="headline-{key}">([^<]+)<', html)
    assert found, f"no headline {key}"
    return found.group(1)


def test_the_headline_equals_the_quarters_forecast_periods_export(renewals_app) -> None:
    client = client_of(renewals_app)
    q3 = export_quarter(renewals_app, "2024-Q3")
    assert q3["expected_arr"] == pytest.approx(134400.00, abs=0.01)
    assert (q3["low_arr"], q3["high_arr"]) == pytest.approx((30000, 156000), abs=40)
    html = client.get("/renewals").text
    assert "Forecast as of <strong>Jun 30, 2024</strong>" in html
    assert headline(html, "at-stake") == "$156,000"
    assert headline(html, "expected") == money_text(q3["expected_arr"]) == "$134,400"
    assert headline(html, "interval") == (f"90%: {money_text(q3['low_arr'])} – "
                                          f"{money_text(q3['high_arr'])}")
    assert headline(html, "committed") == "$0"
    assert headline(html, "grr") == "86.2%"
    assert "quarterdeck export forecast_periods --as-of 2024-06-30 --grain quarter" in html


def test_a_call_moves_committed_arr_as_the_export_would(renewals_app) -> None:
    client = client_of(renewals_app)
    csrf = csrf_of(client, "/renewals")
    response = client.post("/renewals/acme@2024-08-15/category",
                           data={"csrf_token": csrf, "category": "commit",
                                 "note": "order form signed", "next": "/renewals?owner=all"},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/renewals?owner=all"
    q3 = export_quarter(renewals_app, "2024-Q3")
    assert q3["committed_arr"] == 120000.0 and q3["best_case_arr"] == 120000.0
    html = client.get("/renewals").text
    assert headline(html, "committed") == "$120,000"
    [api_q3, _] = client.get("/api/renewals/periods").json()["periods"]
    assert D(api_q3["committed_arr"]) == D("120000.00")
    for key in ("arr_at_stake", "expected_arr", "low_arr", "high_arr", "best_case_arr"):
        assert float(api_q3[key]) == pytest.approx(q3[key], abs=0.01), key


def test_the_quarter_tabs_lead_the_headline_and_filter_the_table(renewals_app) -> None:
    client = client_of(renewals_app, "admin@example.com")
    html = client.get("/renewals?period=2024-Q4").text
    assert headline(html, "at-stake") == "$148,000"  # 147,999.96
    rows = re.findall(r'data-renewal="([^"]+)"', html)
    assert rows == ["globex@2024-10-15", "hooli@2024-11-30"]


def test_a_csm_sees_their_own_by_default_and_everyone_in_one_click(renewals_app) -> None:
    client = client_of(renewals_app)
    html = client.get("/renewals").text
    assert re.findall(r'data-renewal="([^"]+)"', html) == ["acme@2024-08-15",
                                                          "acme-eu@2024-08-15"]
    assert "My renewals" in html and 'id="show-all"' in html
    everyone = client.get("/renewals?owner=all").text
    assert re.findall(r'data-renewal="([^"]+)"', everyone) == [
        "acme@2024-08-15", "acme-eu@2024-08-15", "initech@2024-09-01", "globex@2024-10-15"]
    # 120 days from 2024-06-30 end on 2024-10-28: hooli's renewal is further out
    assert "hooli@2024-11-30" not in everyone
    assert "hooli@2024-11-30" in client.get("/renewals?owner=all&horizon=180").text
    # Ana may call her own renewals, not Ben's
    forms = re.findall(r'action="/renewals/([^"]+)/category"', everyone)
    assert forms == ["acme%402024-08-15", "acme-eu%402024-08-15"]


def test_the_table_shows_health_probability_money_and_the_call(renewals_app) -> None:
    client = client_of(renewals_app, BEN)
    html = client.get("/renewals").text
    row = html[html.index('data-renewal="initech@2024-09-01"'):]
    row = row[:row.index("</tr>")]
    assert 'class="band red"' in row and "40%" in row and "$6,000" in row and "$2,400" in row
    assert "At risk" in row and "budget cut" in row and BEN in row


def test_the_api_lists_filters_and_paginates_with_a_total(renewals_app) -> None:
    client = client_of(renewals_app)
    body = client.get("/api/renewals?horizon=180&limit=2&offset=1").json()
    assert (body["as_of"], body["total"], body["limit"], body["offset"]) == (
        "2024-06-30", 5, 2, 1)
    assert [r["renewal_id"] for r in body["renewals"]] == ["acme-eu@2024-08-15",
                                                           "initech@2024-09-01"]
    assert D(body["arr_at_stake"]) == D("303999.96")
    first = client.get("/api/renewals?horizon=180&limit=1").json()["renewals"][0]
    assert first == {**first, "account_id": "acme", "name": "Acme Corp", "owner_email": ANA,
                     "segment": "enterprise", "renewal_date": "2024-08-15",
                     "arr_at_stake": "120000.00", "p_renew": 0.9, "expected_arr": "108000.00",
                     "category": None, "health_band": "green", "days_out": 46}
    called = client.get("/api/renewals?category=at_risk").json()
    assert [(r["renewal_id"], r["category_note"]) for r in called["renewals"]] == [
        ("initech@2024-09-01", "budget cut")]
    assert client.get("/api/renewals?category=none&horizon=180").json()["total"] == 4
    assert client.get("/api/renewals?owner=ben@example.com").json()["total"] == 2
    assert client.get("/api/renewals?segment=enterprise&horizon=180").json()["total"] == 3
    q4 = client.get("/api/renewals?period=2024-Q4").json()
    assert (q4["period"], q4["window_start"], q4["window_end"], q4["total"]) == (
        "2024-Q4", "2024-10-01", "2024-12-27", 2)
    assert client.get("/api/renewals?period=2024-08").json()["total"] == 2


def test_the_periods_api_breaks_the_forecast_down_with_intervals(renewals_app) -> None:
    client = client_of(renewals_app)
    by_owner = client.get("/api/renewals/periods?by=owner").json()
    assert by_owner["by"] == "owner"
    groups = {(p["period"], p["group"]): p for p in by_owner["periods"]}
    assert set(groups) == {("2024-Q3", ANA), ("2024-Q3", BEN), ("2024-Q4", BEN),
                           ("2024-Q4", "(none)")}
    ana = groups[("2024-Q3", ANA)]
    assert D(ana["expected_arr"]) == D("132000.00")
    assert (D(ana["low_arr"]), D(ana["high_arr"])) == (D("30000.00"), D("150000.00"))
    assert ana["expected_gross_renewal_rate"] is None
    months = client.get("/api/renewals/periods?grain=month").json()["periods"]
    assert [m["period"] for m in months] == ["2024-08", "2024-09", "2024-10", "2024-11"]
    assert months[0]["expected_gross_renewal_rate"] == pytest.approx(132000 / 150000, abs=1e-4)
    assert client.get("/api/renewals/periods?by=region").status_code == 422


def test_the_owner_calls_a_renewal_and_it_is_audited(renewals_app) -> None:
    client = client_of(renewals_app)
    token = csrf_of(client, "/renewals")
    response = client.post("/api/renewals/acme-eu@2024-08-15/category",
                           json={"category": "best_case", "note": "champion back"},
                           headers={"X-CSRF-Token": token})
    assert response.status_code == 200, response.text
    assert response.json() == {"renewal_id": "acme-eu@2024-08-15", "account_id": "acme-eu",
                               "before": None, "after": "best_case", "note": "champion back"}
    with session(renewals_app.state.engine) as db:
        call = db.get(RenewalCategory, "acme-eu@2024-08-15")
        assert (call.category, call.note, call.set_by) == ("best_case", "champion back", ANA)
        change = db.scalars(select(RenewalCategoryChange).where(
            RenewalCategoryChange.renewal_id == "acme-eu@2024-08-15")).one()
        assert (change.before, change.after, change.changed_by) == (None, "best_case", ANA)
        audit = db.scalars(select(AuditLogEntry).where(
            AuditLogEntry.action == "renewal.category",
            AuditLogEntry.target == "acme-eu@2024-08-15")).one()
        assert audit.actor == ANA
    cleared = client.post("/api/renewals/acme-eu@2024-08-15/category", json={},
                          headers={"X-CSRF-Token": token})
    assert cleared.json()["before"] == "best_case" and cleared.json()["after"] is None


def test_another_csm_and_a_viewer_are_refused(renewals_app) -> None:
    ben = client_of(renewals_app, BEN)
    response = ben.post("/api/renewals/acme@2024-08-15/category", json={"category": "commit"},
                        headers={"X-CSRF-Token": csrf_of(ben, "/renewals")})
    assert response.status_code == 403
    assert response.json()["error"] == "HTTPError" and "acme" in response.json()["message"]
    form = ben.post("/renewals/acme@2024-08-15/category",
                    data={"csrf_token": csrf_of(ben, "/renewals"), "category": "commit"})
    assert form.status_code == 403 and "<!doctype html>" in form.text.lower()
    viewer = client_of(renewals_app, "vic@example.com")
    assert viewer.post("/api/renewals/acme@2024-08-15/category", json={"category": "commit"},
                       headers={"X-CSRF-Token": csrf_of(viewer, "/renewals")}
                       ).status_code == 403
    assert "call-form" not in viewer.get("/renewals").text
    with session(renewals_app.state.engine) as db:
        assert db.get(RenewalCategory, "acme@2024-08-15") is None


def test_ops_calls_any_renewal_and_a_form_needs_its_csrf_token(renewals_app) -> None:
    admin = client_of(renewals_app, "admin@example.com")
    assert admin.post("/renewals/hooli@2024-11-30/category",
                      data={"category": "commit"}).status_code == 403  # no token
    response = admin.post("/renewals/hooli@2024-11-30/category",
                          data={"csrf_token": csrf_of(admin, "/renewals"),
                                "category": "churn_expected", "note": "moving off"},
                          follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/renewals"


def test_unknown_categories_renewals_and_parameters_are_refused(renewals_app) -> None:
    client = client_of(renewals_app)
    token = {"X-CSRF-Token": csrf_of(client, "/renewals")}
    bad = client.post("/api/renewals/acme@2024-08-15/category", json={"category": "maybe"},
                      headers=token)
    assert bad.status_code == 400
    assert bad.json() == {"error": "CategoryError", "message": "unknown category 'maybe'; use "
                          "commit, best_case, at_risk, churn_expected"}
    missing = client.post("/api/renewals/zulu@2024-08-15/category",
                          json={"category": "commit"}, headers=token)
    assert missing.status_code == 404 and missing.json()["error"] == "NotFound"
    form = client.post("/renewals/acme@2024-08-15/category",
                       data={"csrf_token": token["X-CSRF-Token"], "category": "maybe"})
    assert form.status_code == 400 and "unknown category" in form.text
    for query in ("period=2024-Q5", "category=maybe"):
        api = client.get(f"/api/renewals?{query}")
        assert api.status_code == 400 and api.json()["error"] == "RenewalQueryError", query
        page = client.get(f"/renewals?{query}")
        assert page.status_code == 400 and "<!doctype html>" in page.text.lower(), query
    for query in ("horizon=0", "horizon=181", "as_of=yesterday", "limit=501", "offset=-1"):
        assert client.get(f"/api/renewals?{query}").status_code == 422, query
    for query in ("horizon=0", "as_of=yesterday", "page=0"):
        page = client.get(f"/renewals?{query}")
        assert page.status_code == 400 and "This page cannot show that" in page.text, query


def test_a_day_before_any_forecast_says_so(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    build_world(url)
    app = create_app(url, secret_key="test-secret")
    client = client_of(app)
    assert "No renewal forecast published yet" in client.get("/renewals").text
    body = client.get("/api/renewals").json()
    assert (body["as_of"], body["total"], body["renewals"]) == (None, 0, [])
    assert client.get("/api/renewals/periods").json()["periods"] == []
    app.state.engine.dispose()


@pytest.mark.slow
def test_the_page_equals_the_export_on_a_company_run_by_the_pipeline(tmp_path) -> None:
    """A demo company through `quarterdeck run`, a call made after the run: the page's quarter
    and `/api/renewals/periods` equal `quarterdeck export forecast_periods` of the same day."""
    import csv
    import json

    from typer.testing import CliRunner

    from quarterdeck.cli.main import app as cli
    from quarterdeck.workspace.workspace import open_workspace

    def qd(*args: object) -> str:
        result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    qd("demo", "--out", tmp_path / "demo", "--accounts", 80, "--years", 2, "--seed", 5)
    day = date.fromisoformat(json.loads((tmp_path / "demo" / "demo.json").read_text())["today"])
    ws = tmp_path / "ws"
    qd("init", ws)
    qd("load", tmp_path / "demo" / "data", "--workspace", ws)
    qd("run", "--as-of", day, "--workspace", ws)
    url = open_workspace(ws).app_database_url
    app = create_app(url, secret_key="test-secret")
    add_user(app.state.engine, "ops@example.com", "Ops", "ops", PASSWORD)
    client = client_of(app, "ops@example.com")
    [first, *_] = client.get("/api/renewals?horizon=180").json()["renewals"]
    client.post(f"/api/renewals/{first['renewal_id']}/category", json={"category": "commit"},
                headers={"X-CSRF-Token": csrf_of(client, "/renewals")}).raise_for_status()
    out = tmp_path / "periods.csv"
    qd("export", "forecast_periods", "--as-of", day, "--grain", "quarter", "--horizon", 180,
       "--out", out, "--workspace", ws)
    exported = {r["period"]: r for r in csv.DictReader(out.open())}
    served = {p["period"]: p for p in client.get("/api/renewals/periods").json()["periods"]}
    assert set(served) == set(exported)
    for period, row in exported.items():
        for key in ("renewals", "arr_at_stake", "expected_arr", "low_arr", "high_arr",
                    "committed_arr", "best_case_arr", "expected_gross_renewal_rate"):
            assert float(served[period][key]) == pytest.approx(float(row[key]), abs=0.006), key
    quarter = exported[min(exported)]
    assert float(quarter["committed_arr"]) > 0
    html = client.get("/renewals").text
    assert headline(html, "expected") == money_text(quarter["expected_arr"])
    assert headline(html, "committed") == money_text(quarter["committed_arr"])
    app.state.engine.dispose()
