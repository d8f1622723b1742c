"""Health scores and churn risk on the account list and the account page, as HTML and as JSON.

The world (tests/app/conftest.py) publishes health and churn risk for 2024-06-30 and for an
older day, 2024-06-23, whose numbers differ and must never show.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient

from quarterdeck.app import create_app
from quarterdeck.appdb import add_user, make_engine, migrate, publish_snapshot
from quarterdeck.appdb.publish_health import publish_health
from quarterdeck.testing.web_client import post_login
from tests.app.conftest import AS_OF, accounts_table, health_table, history_table


def _accounts(client: TestClient, **params: object) -> list[dict]:
    response = client.get("/api/accounts", params={"status": "all", **params})
    assert response.status_code == 200, response.text
    return response.json()["accounts"]


def _names(client: TestClient, **params: object) -> list[str]:
    return [a["name"] for a in _accounts(client, **params)]


def test_list_shows_the_latest_health_and_churn_risk(signed_in: TestClient) -> None:
    body = signed_in.get("/api/accounts", params={"status": "all"}).json()
    assert body["health_as_of"] == "2024-06-30"
    by_id = {a["account_id"]: a for a in body["accounts"]}
    acme = by_id["acme"]
    # 82.5 and 4% as of Jun 30, not the older day's 77.5 and 5%
    assert (acme["health_score"], acme["health_band"], acme["churn_probability"]) == (
        82.5, "green", 0.04)
    assert (by_id["hooli"]["health_band"], by_id["initech"]["health_band"]) == ("yellow", "red")
    assert acme["no_score_reason"] is None


def test_accounts_without_a_score_say_why(signed_in: TestClient) -> None:
    by_id = {a["account_id"]: a for a in _accounts(signed_in)}
    assert by_id["acme-eu"]["no_score_reason"] == "too little data for the enterprise health model"
    assert by_id["globex"]["no_score_reason"] == "no health model for segment mid-market"
    assert by_id["umbrella"]["no_score_reason"] == "not a paying account on 2024-06-30"
    assert [by_id[a]["health_score"] for a in ("acme-eu", "globex", "umbrella")] == [None] * 3
    assert by_id["globex"]["churn_probability"] == 0.087  # a churn risk needs no health model
    assert by_id["umbrella"]["churn_probability"] is None


def test_sorting_by_health_puts_the_weakest_first_and_no_score_last(
    signed_in: TestClient,
) -> None:
    no_score = ["Acme Europe GmbH", "Globex", "Umbrella Health"]
    assert _names(signed_in, sort="health") == ["Initech", "Hooli", "Acme Corp", *no_score]
    assert _names(signed_in, sort="-health") == ["Acme Corp", "Hooli", "Initech", *no_score]


def test_sorting_by_churn_risk_puts_the_riskiest_first(signed_in: TestClient) -> None:
    assert _names(signed_in, sort="-churn_risk") == [
        "Initech", "Hooli", "Acme Europe GmbH", "Globex", "Acme Corp", "Umbrella Health"]


def test_band_filter_counts_and_totals_only_that_band(signed_in: TestClient) -> None:
    assert _names(signed_in, band="red") == ["Initech"]
    assert _names(signed_in, band="green", segment="enterprise") == ["Acme Corp"]
    body = signed_in.get("/api/accounts", params={"band": "none", "status": "all"}).json()
    assert (body["total"], Decimal(body["total_arr"])) == (3, Decimal("78000.00"))
    assert _names(signed_in, band="purple") == []


def test_account_json_has_health_components_and_churn_risk(signed_in: TestClient) -> None:
    body = signed_in.get("/api/accounts/hooli").json()
    assert (body["health_score"], body["health_band"], body["churn_probability"]) == (
        66.0, "yellow", 0.18)
    health = body["health"]
    assert (health["as_of"], health["model"], health["change_7d"], health["change_30d"]) == (
        "2024-06-30", "enterprise", -3.5, -9.0)
    assert health["reasons"] == [
        "usage down 12% in 30 days", "latest NPS 6", "1 urgent ticket in 30 days"]
    # weakest first; the mean of the points is the score
    points = [(c["feature"], c["points"]) for c in health["components"]]
    assert points == [("usage_trend_30d", 40.0), ("latest_nps", 45.0),
                      ("urgent_tickets_30d", 50.0), ("events_per_seat_30d", 95.0),
                      ("days_since_last_meeting", 100.0)]
    assert sum(p for _, p in points) / len(points) == health["score"]
    assert health["components"][0]["value"] == -0.12
    assert body["churn_risk"] == {
        "as_of": "2024-06-30", "churn_probability": 0.18, "horizon": "2025-04-30",
        "reasons": ["latest NPS 6", "usage down 12% in 30 days"], "model": "logistic",
        "model_version": "2024-06-30"}
    assert body["no_risk_reason"] is None


def test_account_json_without_a_score_keeps_what_was_published(signed_in: TestClient) -> None:
    eu = signed_in.get("/api/accounts/acme-eu").json()["health"]
    assert (eu["score"], eu["band"], eu["model"]) == (None, None, "enterprise")
    assert [c["feature"] for c in eu["components"]] == ["events_per_seat_30d"]
    # Globex's values have no points: no model scores them, so they are not components
    globex = signed_in.get("/api/accounts/globex").json()["health"]
    assert globex["components"] == [] and globex["model"] is None
    umbrella = signed_in.get("/api/accounts/umbrella").json()
    assert umbrella["churn_risk"] is None
    assert umbrella["no_risk_reason"] == "not a paying account on 2024-06-30"


def test_list_page_shows_health_pills_risk_and_where_they_come_from(
    signed_in: TestClient,
) -> None:
    html = signed_in.get("/accounts", params={"status": "all"}).text
    assert ">Health" in html and ">Churn risk" in html
    assert 'href="/accounts?status=all&amp;sort=health"' in html
    assert 'href="/accounts?status=all&amp;sort=-churn_risk"' in html
    assert '<span class="score-num">82.5</span><span class="band green">Green</span>' in html
    assert '<span class="band red">Red</span>' in html and "62%" in html
    assert 'title="no health model for segment mid-market">no score</span>' in html
    assert "quarterdeck export health_scores --as-of 2024-06-30" in html
    assert "quarterdeck export churn_risk --as-of 2024-06-30" in html
    # the band chips count every account of the snapshot
    assert "Red <strong>1</strong>" in html and "No score <strong>3</strong>" in html


def test_list_page_filters_by_band_and_keeps_it_in_links(signed_in: TestClient) -> None:
    html = signed_in.get("/accounts", params={"band": "none", "per_page": 2, "status": "all"}).text
    assert "Acme Europe GmbH" in html and "Initech" not in html
    assert '<option value="none" selected>No score</option>' in html
    assert 'href="/accounts?band=none&amp;status=all&amp;page=2&amp;per_page=2"' in html


def test_account_page_shows_health_and_churn_risk_panels(signed_in: TestClient) -> None:
    html = signed_in.get("/accounts/initech").text
    assert '<span class="big-number">28.4</span>' in html and "smb model" in html
    assert "−6.1" in html and "−20.3" in html  # changes vs 7 and 30 days
    assert "usage down 62% in 30 days" in html and "3 urgent tickets in 30 days" in html
    assert "Usage, 30-day trend" in html and "−62%" in html  # a component and its value
    assert '<span class="big-number">62%</span>' in html
    assert "Sep 30, 2024" in html and "(in 92 days)" in html  # the decision it is about
    assert "2024-06-30" in html and "logistic" in html  # model and version
    assert "quarterdeck export churn_risk --as-of 2024-06-30" in html

    green = signed_in.get("/accounts/acme").text
    assert "+1.5" in green and "+4.0" in green
    assert "Nothing pulls the score below the green line." in green


def test_account_page_without_a_score_says_why(signed_in: TestClient) -> None:
    assert "Too little data for the enterprise health model." in signed_in.get(
        "/accounts/acme-eu").text
    html = signed_in.get("/accounts/umbrella").text
    assert "No score" in html and "Not a paying account on 2024-06-30." in html


def test_before_health_is_published_and_without_a_churn_model(
    tmp_path: Path, password: str
) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = make_engine(url)
    migrate(engine)
    add_user(engine, "ana@example.com", "Ana", "csm", password)
    publish_snapshot(engine, as_of=AS_OF, accounts=accounts_table(),
                     arr_history=history_table(),
                     run_started_at=datetime(2024, 7, 1, 2, 0, tzinfo=UTC))
    client = TestClient(create_app(url, secret_key="test"))
    post_login(client, "ana@example.com", password)

    body = client.get("/api/accounts", params={"status": "all"}).json()
    assert body["health_as_of"] is None and body["total"] == 6
    assert {a["no_score_reason"] for a in body["accounts"]} == {
        "nothing has been published for health yet"}
    assert "No health scores or churn risk have been published yet" in client.get(
        "/accounts").text

    # too little renewal history: health is published, churn risk is not
    publish_health(engine, as_of=AS_OF, health_scores=health_table(), churn_risk=None)
    engine.dispose()
    acme = client.get("/api/accounts/acme").json()
    assert acme["health_score"] == 82.5 and acme["churn_risk"] is None
    assert acme["no_risk_reason"] == (
        "no churn model for 2024-06-30: too little renewal history to learn from")
    assert "No churn model for 2024-06-30" in client.get("/accounts/acme").text


def test_every_health_feature_has_a_label_on_the_pages():
    from quarterdeck.app.queries import COMPONENT_DISPLAY
    from quarterdeck.health.features import FEATURES

    assert set(FEATURES) <= set(COMPONENT_DISPLAY), set(FEATURES) - set(COMPONENT_DISPLAY)
