"""The book in the web app: a CSM's home shows their accounts, tasks and alerts; they act on
their own in one click, never on someone else's; a viewer reads only; the operations page
equals `quarterdeck ops`; the API does the same as the forms."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from quarterdeck.app import create_app
from quarterdeck.appdb import add_user, make_engine
from quarterdeck.appdb.database import session
from quarterdeck.appdb.operations_models import Alert, AlertEvent, Task
from quarterdeck.appdb.ops_metrics import ops_metrics
from quarterdeck.appdb.publish_operations import publish_operations
from quarterdeck.lifecycle.book import default_book
from quarterdeck.testing.web_client import csrf_of, post_login
from tests.app.conftest import AS_OF, PASSWORD, build_world
from tests.appdb.test_publish_operations import FIRED_SCHEMA, TRIGGER_SCHEMA

BOOK = default_book()
ANA, BEN = "ana@example.com", "ben@example.com"


def _stage(account: str, owner: str | None, arr: float, stage: str = "mature",
           **facts: object) -> dict[str, object]:
    return {"account_id": account, "stage": stage, "stage_rule": "always", "status": "active",
            "owner_email": owner, "arr": arr, "segment": "enterprise", "renewal_date": None,
            **facts}


def _fired(signal: str, account: str, owner: str) -> dict[str, object]:
    s = BOOK.signals.signal(signal)
    return {"signal": signal, "kind": s.kind, "severity": s.severity, "account_id": account,
            "dedup_key": f"{signal}:{account}", "owner_email": owner,
            "evidence": '{"arr": "120000.0"}', "rule": s.text()}


def publish_book(url: str) -> None:
    engine = make_engine(url)
    add_user(engine, "vic@example.com", "Vic Viewer", "viewer", PASSWORD)
    stages = [_stage("acme", ANA, 120000, "at_risk", renewal_date=date(2024, 8, 15),
                     term_months=12),
              _stage("acme-eu", ANA, 30000), _stage("globex", BEN, 48000),
              _stage("initech", BEN, 6000, "at_risk")]
    keys = list(dict.fromkeys(k for s in stages for k in s))
    triggers = [{"playbook": "risk_recovery", "trigger": "stage", "account_id": a,
                 "trigger_key": "stage=at_risk", "anchor_date": None}
                for a in ("acme", "initech")]
    team = pa.Table.from_pylist([
        {"email": ANA, "name": "Ana", "role": "csm", "manager_email": None,
         "capacity_accounts": 2, "capacity_arr": 100000},
        {"email": BEN, "name": "Ben", "role": "csm", "manager_email": None,
         "capacity_accounts": 10, "capacity_arr": 100000}])
    publish_operations(
        engine, as_of=AS_OF,
        stages=pa.Table.from_pylist([{k: s.get(k) for k in keys} for s in stages]),
        fired=pa.Table.from_pylist([_fired("usage_drop", "acme", ANA),
                                    _fired("ticket_surge", "initech", BEN)],
                                   schema=FIRED_SCHEMA),
        triggers=pa.Table.from_pylist(triggers, schema=TRIGGER_SCHEMA),
        team=team, signals=BOOK.signals, playbooks=BOOK.playbooks,
        milestone_names=BOOK.milestone_names)
    engine.dispose()


@pytest.fixture
def book_app(tmp_path) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    build_world(url)
    publish_book(url)
    app = create_app(url, secret_key="test-secret", workspace_name="Example Co")
    app.state.playbooks = BOOK.playbooks
    yield app
    app.state.engine.dispose()


def signed(app, email: str) -> TestClient:
    client = TestClient(app)
    assert post_login(client, email, PASSWORD).status_code == 303
    return client


def _alert_id(app, account: str) -> int:
    with session(app.state.engine) as db:
        return db.scalar(select(Alert.id).where(Alert.account_id == account))


def test_a_csm_home_shows_their_accounts_tasks_and_alerts_only(book_app) -> None:
    page = signed(book_app, ANA).get("/")
    assert page.status_code == 200
    text = page.text
    assert "My book" in text and "Acme Corp" in text and "Acme Europe GmbH" in text
    assert "Globex" not in text  # Ben's
    assert "usage drop" in text and "ticket surge" not in text
    assert "Diagnose the risk with the account team" in text
    assert "$150,000" in text  # 120,000 + 30,000 ARR, formatted


def test_a_csm_acknowledges_their_alert_in_one_click_and_it_is_recorded(book_app) -> None:
    client = signed(book_app, ANA)
    alert = _alert_id(book_app, "acme")
    response = client.post(f"/alerts/{alert}/acknowledge",
                           data={"csrf_token": csrf_of(client, "/"), "next": "/"},
                           follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/")
    with session(book_app.state.engine) as db:
        row = db.get(Alert, alert)
        events = [(e.actor, e.to_state) for e in db.scalars(
            select(AlertEvent).where(AlertEvent.alert_id == alert).order_by(AlertEvent.id))]
    assert (row.state, row.state_changed_by) == ("acknowledged", ANA)
    assert events == [("quarterdeck", "open"), (ANA, "acknowledged")]


def test_a_csm_cannot_act_on_another_csms_alert_and_a_viewer_on_any(book_app) -> None:
    ana = signed(book_app, ANA)
    bens = _alert_id(book_app, "initech")
    refused = ana.post(f"/alerts/{bens}/acknowledge",
                       data={"csrf_token": csrf_of(ana, "/"), "next": "/"})
    assert refused.status_code == 403
    assert "neither yours" in refused.text
    vic = signed(book_app, "vic@example.com")
    refused = vic.post(f"/alerts/{_alert_id(book_app, 'acme')}/resolve",
                       data={"csrf_token": csrf_of(vic, "/"), "next": "/"})
    assert refused.status_code == 403
    with session(book_app.state.engine) as db:
        assert {a.state for a in db.scalars(select(Alert))} == {"open"}


def test_closing_a_task_needs_an_outcome_and_the_api_does_what_the_form_does(book_app) -> None:
    client = signed(book_app, ANA)
    with session(book_app.state.engine) as db:
        task = db.scalar(select(Task.id).where((Task.account_id == "acme")
                                               & (Task.key == "diagnose")))
    token = csrf_of(client, "/")
    empty = client.post(f"/tasks/{task}/close", data={"csrf_token": token, "outcome": " "})
    assert empty.status_code == 400
    done = client.post(f"/api/tasks/{task}/close", json={"outcome": "root cause found"},
                       headers={"X-CSRF-Token": token})
    assert done.status_code == 200, done.text
    assert done.json() == {"id": task, "account_id": "acme", "before": "open", "after": "done"}
    again = client.post(f"/api/tasks/{task}/close", json={"outcome": "twice"},
                        headers={"X-CSRF-Token": token})
    assert again.status_code == 409
    listed = client.get("/api/tasks", params={"account_id": "acme", "status": "done"}).json()
    assert [t["id"] for t in listed] == [task]


def test_a_note_logged_from_the_page_lands_on_the_account(book_app) -> None:
    client = signed(book_app, ANA)
    response = client.post("/notes", data={"csrf_token": csrf_of(client, "/"),
                                           "account_id": "acme", "kind": "meeting",
                                           "body": "Met the new VP of Ops",
                                           "next": "/accounts/acme"},
                           follow_redirects=False)
    assert response.status_code == 303
    book = client.get("/api/book/acme").json()
    assert [(n["kind"], n["body"], n["author"]) for n in book["notes"]] == [
        ("meeting", "Met the new VP of Ops", ANA)]
    assert book["stage"] == "at_risk"
    forbidden = client.post("/api/notes", json={"account_id": "globex", "body": "hi"},
                            headers={"X-CSRF-Token": csrf_of(client, "/")})
    assert forbidden.status_code == 403


def test_the_operations_page_equals_the_ops_metrics(book_app) -> None:
    client = signed(book_app, "admin@example.com")
    page = client.get("/operations?by=csm")
    assert page.status_code == 200
    rows = ops_metrics(book_app.state.engine, as_of=AS_OF, by="csm").to_pylist()
    ana = next(r for r in rows if r["group"] == ANA)
    assert ana["utilisation"] == 1.5  # 150,000 ARR against 100,000 → over
    assert re.search(r"ana@example.com</a>\s*<span class=\"badge bad\">over</span>", page.text)
    assert "Definitions" in page.text
    assert client.get("/operations?by=planet").status_code == 400
    api = client.get("/api/ops", params={"by": "segment"}).json()
    assert api[-1]["group"] == "total" and api[-1]["accounts"] == 4


def test_a_manager_or_admin_sees_everyone_and_can_ask_for_one_persons_book(book_app) -> None:
    admin = signed(book_app, "admin@example.com")
    assert "Globex" in admin.get("/").text
    bens = admin.get("/", params={"owner": BEN}).text
    assert "Globex" in bens and "Acme Corp" not in bens


def test_a_playbook_is_started_by_hand_through_the_api(book_app) -> None:
    client = signed(book_app, ANA)
    token = {"X-CSRF-Token": csrf_of(client, "/")}
    started = client.post("/api/playbooks/risk_recovery/start",
                          json={"account_id": "acme-eu", "anchor": "2024-07-01"}, headers=token)
    assert started.status_code == 201, started.text
    assert client.post("/api/playbooks/risk_recovery/start", json={"account_id": "acme-eu"},
                       headers=token).status_code == 409  # once a day
    assert client.post("/api/playbooks/risk_recovery/start", json={"account_id": "globex"},
                       headers=token).status_code == 403  # Ben's
    tasks = client.get("/api/tasks", params={"account_id": "acme-eu"}).json()
    assert [t["due_on"] for t in tasks] == ["2024-07-03", "2024-07-10", "2024-08-12"]


def test_a_whole_book_home_shows_the_first_rows_of_each_list_and_says_how_many_more(
        tmp_path) -> None:
    """Thousands of renewals would make a page of megabytes: each list stops at its first
    rows, says how many there are, and links to the page that has them all."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    build_world(url)
    engine = make_engine(url)
    stages = [_stage(f"co-{i:03d}", ANA, 1000 + i, renewal_date=AS_OF.replace(day=28),
                     term_months=12) for i in range(260)]
    publish_operations(
        engine, as_of=AS_OF, stages=pa.Table.from_pylist(stages),
        fired=pa.Table.from_pylist([], schema=FIRED_SCHEMA),
        triggers=pa.Table.from_pylist([], schema=TRIGGER_SCHEMA),
        team=pa.Table.from_pylist([{"email": ANA, "name": "Ana", "role": "csm",
                                    "manager_email": None, "capacity_accounts": 10,
                                    "capacity_arr": 100000}]),
        signals=BOOK.signals, playbooks=BOOK.playbooks, milestone_names=BOOK.milestone_names)
    engine.dispose()
    app = create_app(url, secret_key="test-secret", workspace_name="Example Co")
    try:
        text = signed(app, "admin@example.com").get("/").text
        renewals = text.split('id="renewals-title"')[1].split("</section>")[0]
        assert renewals.count("<li>") == 50
        assert "The first 50 of 260" in renewals and 'href="/renewals"' in renewals
        book = text.split('id="book-title"')[1].split("</section>")[0]
        assert book.count("<tr>") == 201  # the header row and 200 accounts
        assert "The first 200 of 260" in book
        api = signed(app, "admin@example.com")
        home = api.get("/api/home").json()  # 200 of each list by default
        assert (len(home["accounts"]), home["totals"]["accounts"]) == (200, 260)
        home = api.get("/api/home", params={"limit": 10}).json()
        assert (len(home["renewals"]), home["totals"]["renewals"]) == (10, 260)
        assert api.get("/api/home", params={"limit": 0}).status_code == 422
    finally:
        app.state.engine.dispose()
