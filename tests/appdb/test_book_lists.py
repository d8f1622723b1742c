"""The API's lists of alerts and tasks are cut in the database: a status, a page and an owner
select exactly the items that filtering every item by its status on the day would."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from test_publish_operations import CSM, fired, publish, stage

from quarterdeck.app.book_queries import alerts_of, tasks_of
from quarterdeck.appdb.book_actions import acknowledge_alert, close_task, resolve_alert

DAY = date(2026, 6, 10)  # a Wednesday
STATUSES = ("open", "overdue", "done", "skipped")


@pytest.fixture
def book(engine):
    publish(engine, DAY - timedelta(days=40), [
        stage("a", "at_risk", arr=50000), stage("b", "at_risk", arr=9000,
                                                owner_email="other@example.com"),
        stage("c", "onboarding", customer_since=DAY - timedelta(days=41))],
        [fired("usage_drop", "a"), fired("ticket_surge", "b", owner_email="other@example.com"),
         fired("invoice_overdue", "c")],
        [{"playbook": "risk_recovery", "trigger": "stage", "account_id": a,
          "trigger_key": "stage=at_risk", "anchor_date": None} for a in ("a", "b")]
        + [{"playbook": "onboarding", "trigger": "stage", "account_id": "c",
            "trigger_key": "stage=onboarding", "anchor_date": DAY - timedelta(days=41)}])
    tasks = tasks_of(engine)
    close_task(engine, tasks[0].id, actor=CSM, outcome="done early", on=DAY - timedelta(days=39))
    close_task(engine, tasks[1].id, actor=CSM, outcome="not needed", skip=True,
               on=DAY - timedelta(days=30))
    close_task(engine, tasks[2].id, actor=CSM, outcome="after the day", on=DAY + timedelta(days=3))
    alerts = alerts_of(engine)
    acknowledge_alert(engine, alerts[0].id, actor=CSM, on=DAY)
    resolve_alert(engine, alerts[1].id, actor=CSM, on=DAY)
    # The book's day moves on: some tasks are overdue now, one closed after it is not yet.
    publish(engine, DAY, [stage("a", "at_risk", arr=50000),
                          stage("b", "at_risk", arr=9000, owner_email="other@example.com"),
                          stage("c", "onboarding", customer_since=DAY - timedelta(days=41))],
            [fired("usage_drop", "a"), fired("ticket_surge", "b", owner_email="other@example.com"),
             fired("invoice_overdue", "c")],
            [{"playbook": "risk_recovery", "trigger": "stage", "account_id": a,
              "trigger_key": "stage=at_risk", "anchor_date": None} for a in ("a", "b")])
    return engine


def test_each_status_selects_the_tasks_that_have_it_on_the_day(book) -> None:
    every = tasks_of(book)
    assert {t.status for t in every} == set(STATUSES)  # the world holds every status
    for status in STATUSES:
        assert tasks_of(book, statuses=(status,)) == [t for t in every if t.status == status]
    due = tasks_of(book, statuses=("open", "overdue"))
    assert due == [t for t in every if t.status in ("open", "overdue")]


def test_a_page_of_tasks_is_a_slice_of_the_whole_list(book) -> None:
    every = tasks_of(book, statuses=("open", "overdue"))
    assert tasks_of(book, statuses=("open", "overdue"), limit=2, offset=1) == every[1:3]
    mine = tasks_of(book, owner=CSM.upper())
    assert mine and all(t.owner_email == CSM for t in mine)


def test_alerts_are_selected_by_state_and_paged(book) -> None:
    every = alerts_of(book)
    assert {a.state for a in every} >= {"acknowledged", "resolved"}
    live = alerts_of(book, states=("open", "acknowledged"))
    assert live == [a for a in every if a.state in ("open", "acknowledged")]
    assert alerts_of(book, states=("resolved",)) == [a for a in every if a.state == "resolved"]
    assert alerts_of(book, limit=1, offset=1) == every[1:2]
