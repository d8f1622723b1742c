"""The account page's 360: timeline, contacts, subscriptions, opportunities, usage and health
over time, from detail published for the world's day, and the list's paying-customer default.

The world's detail for Acme is described in tests/app/conftest.py (`detail_tables`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from quarterdeck.app import create_app
from quarterdeck.appdb import make_engine, session
from quarterdeck.appdb.operations_models import LifecycleStage
from quarterdeck.appdb.publish_account_detail import (
    publish_account_detail,
    published_detail_as_of,
)
from quarterdeck.testing.web_client import post_login
from tests.app.conftest import AS_OF, PASSWORD, build_world, detail_tables


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    path: Path = tmp_path_factory.mktemp("account-360")
    url = f"sqlite:///{path / 'app.db'}"
    build_world(url)
    engine = make_engine(url)
    with session(engine) as s:  # Acme's stage, so the book (and its notes) has the account
        s.add(LifecycleStage(as_of=AS_OF, account_id="acme", stage="renewal",
                             stage_rule="renewal within 90 days", entered_on=date(2024, 5, 17),
                             status="active", segment="enterprise", owner_email="ana@example.com",
                             arr=Decimal("120000.00")))
    engine.dispose()
    app = create_app(url, secret_key="test-secret")
    yield app
    app.state.engine.dispose()


@pytest.fixture
def signed_in(app: FastAPI) -> TestClient:
    client = TestClient(app)
    assert post_login(client, "ana@example.com", PASSWORD).status_code == 303
    return client


def test_the_account_page_shows_the_timeline_in_words_newest_first(signed_in):
    html = signed_in.get("/accounts/acme").text
    order = ["Contact left: Cara", "Urgent ticket opened", "NPS response: 9/10", "QBR",
             "Subscription started: Enterprise"]
    positions = [html.index(text) for text in order]
    assert positions == sorted(positions)
    assert "solved in 2.5 days" in html and "Saves us hours" in html
    assert "MRR $10,000" in html


def test_the_timeline_filter_keeps_one_group_and_a_bad_one_is_an_html_error(signed_in):
    support = signed_in.get("/accounts/acme", params={"timeline": "support"}).text
    timeline = support.split('id="timeline"')[1].split("</section>")[0]
    assert "Urgent ticket opened" in timeline and "NPS response" in timeline
    assert "Subscription started" not in timeline and "QBR" not in timeline
    bad = signed_in.get("/accounts/acme", params={"timeline": "gossip"})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("text/html")
    assert "timeline" in bad.text


def test_contacts_flag_the_champion_and_who_left(signed_in):
    html = signed_in.get("/accounts/acme").text
    contacts = html.split('id="contacts-title"')[1].split("</section>")[0]
    assert "1 current" in contacts
    assert "Champion" in contacts and "left Jun 10, 2024" in contacts
    assert contacts.index("Dan") < contacts.index("Cara")  # current people first


def test_subscriptions_opportunities_and_charts_are_on_the_page(signed_in):
    html = signed_in.get("/accounts/acme").text
    subs = html.split('id="subs-title"')[1].split("</section>")[0]
    assert "Enterprise" in subs and "$10,000.00" in subs and "auto-renews" in subs
    opps = html.split('id="opps-title"')[1].split("</section>")[0]
    assert "expansion" in opps and "Proposal" in opps and "$30,000" in opps
    assert 'aria-label="Average daily active users by week"' in html
    # health was published for two days in the world: the chart has both
    health = html.split('aria-label="Health score by published day"')[1].split("</svg>")[0]
    assert health.count("<circle") == 2
    assert "Lifecycle stage" in html and "since May 17, 2024" in html


def test_a_note_logged_on_the_page_joins_the_timeline(signed_in):
    from quarterdeck.testing.web_client import csrf_of

    token = csrf_of(signed_in, "/accounts/acme")
    response = signed_in.post("/notes", data={
        "csrf_token": token, "account_id": "acme", "kind": "call", "body": "Renewal call booked",
        "next": "/accounts/acme"}, follow_redirects=False)
    assert response.status_code == 303
    book = signed_in.get("/accounts/acme", params={"timeline": "book"}).text
    timeline = book.split('id="timeline"')[1].split("</section>")[0]
    assert "Call logged by" in timeline and "Renewal call booked" in timeline


def test_the_api_returns_the_same_detail(signed_in):
    body = signed_in.get("/api/account_detail/acme").json()
    assert body["as_of"] == AS_OF.isoformat()
    assert [c["name"] for c in body["contacts"] if c["champion"]] == ["Cara"]
    assert body["subscriptions"][0]["mrr"] == "10000.00"
    assert [w["avg_daily_active_users"] for w in body["usage"]] == [3.0, 4.5]
    assert [p["as_of"] for p in body["health_history"]] == ["2024-06-23", "2024-06-30"]
    support = signed_in.get("/api/account_detail/acme",
                            params={"timeline_group": "support"}).json()
    assert {e["kind"] for e in support["timeline"]} == {"ticket_opened", "nps_response"}
    assert signed_in.get("/api/account_detail/nope").status_code == 404
    bad = signed_in.get("/api/account_detail/acme", params={"timeline_group": "x"})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/json"
    body = bad.json()  # the shape of every API error, FastAPI's detail kept
    assert body["error"] == "ValidationError" and "timeline_group" in body["message"]
    assert body["detail"][0]["loc"] == ["query", "timeline_group"]


def test_an_earlier_day_does_not_replace_the_detail_a_later_one_does(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    build_world(url)
    engine = make_engine(url)
    assert publish_account_detail(engine, as_of=AS_OF, tables=detail_tables("acme"))
    assert not publish_account_detail(engine, as_of=date(2024, 6, 1),
                                      tables=detail_tables("globex"))
    assert published_detail_as_of(engine) == AS_OF
    assert publish_account_detail(engine, as_of=date(2024, 7, 1), tables=detail_tables("hooli"))
    with engine.connect() as c:
        accounts = {r[0] for r in c.exec_driver_sql("SELECT account_id FROM account_contacts")}
    assert accounts == {"hooli"} and published_detail_as_of(engine) == date(2024, 7, 1)
    engine.dispose()


def test_the_account_list_defaults_to_paying_customers(signed_in):
    body = signed_in.get("/api/accounts").json()
    # Umbrella is churned (no MRR): one tab away, with the other non-paying accounts
    assert body["total"] == 5 and "umbrella" not in {a["account_id"] for a in body["accounts"]}
    churned = signed_in.get("/api/accounts", params={"status": "churned"}).json()
    assert [a["account_id"] for a in churned["accounts"]] == ["umbrella"]
    everyone = signed_in.get("/api/accounts", params={"status": "all"}).json()
    assert everyone["total"] == 6
    html = signed_in.get("/accounts").text
    assert "Paying customers <strong>5</strong>" in html and "Churned <strong>1</strong>" in html
    assert 'href="/accounts?status=churned"' in html
    bad = signed_in.get("/accounts", params={"status": "ghosts"})
    assert bad.status_code == 400 and "status" in bad.text
