"""What a CSM's home and an account's page read from the book: their accounts ranked by risk,
tasks overdue and due this week, renewals within 120 days, health drops, live alerts, notes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from test_publish_operations import CSM, MANAGER, fired, publish, stage

from quarterdeck.app.book_queries import account_book, csm_home
from quarterdeck.appdb.book_actions import BookError, add_note, close_task

DAY = date(2026, 6, 10)  # a Wednesday


@pytest.fixture
def book(engine):
    publish(engine, DAY, [
        stage("a", "at_risk", arr=50000, renewal_date=DAY + timedelta(days=40), term_months=12),
        stage("b", "mature", arr=90000, renewal_date=DAY + timedelta(days=300), term_months=12),
        stage("m", "mature", arr=1200, renewal_date=DAY + timedelta(days=20), term_months=1),
        stage("c", "mature", arr=5000, owner_email="other@example.com"),
        stage("d", "churned", status="churned", arr=0)],
        [fired("usage_drop", "a"), fired("ticket_surge", "c", owner_email="other@example.com")],
        [{"playbook": "risk_recovery", "trigger": "stage", "account_id": "a",
          "trigger_key": "stage=at_risk", "anchor_date": None}])
    return engine


def test_a_csm_sees_their_paying_accounts_tasks_renewals_and_alerts(book) -> None:
    home = csm_home(book, owners=[CSM])
    assert home.as_of == DAY
    assert [a.account_id for a in home.accounts] == ["b", "a", "m"]  # no risk: by ARR
    assert home.total_arr == 141200
    assert [a.account_id for a in home.renewals] == ["a"]  # within 120 days, not monthly
    assert [(a.signal, a.account_id) for a in home.alerts] == [("usage_drop", "a")]
    assert home.accounts[1].open_alerts == 1
    # risk_recovery from 06-10: diagnose due Friday 06-12 (this week), the rest later or
    # the manager's.
    assert [t.title for t in home.tasks_due_soon] == ["Diagnose the risk with the account team"]
    assert home.tasks_overdue == []
    later = csm_home(book, owners=[CSM], as_of=DAY + timedelta(days=5))
    assert later.as_of == DAY  # the latest published day on or before the date
    everyone = csm_home(book, owners=None)
    assert {a.account_id for a in everyone.accounts} == {"a", "b", "c", "m"}
    assert csm_home(book, owners=[MANAGER]).accounts == []


def test_a_closed_task_leaves_the_home_and_an_account_page_shows_its_book(book) -> None:
    home = csm_home(book, owners=[CSM])
    close_task(book, home.tasks_due_soon[0].id, actor=CSM, outcome="root cause found", on=DAY)
    assert csm_home(book, owners=[CSM]).tasks_due_soon == []
    note = add_note(book, "a", "Met the new VP", actor=CSM, kind="meeting", on=DAY)
    page = account_book(book, "a")
    assert (page.stage, page.entered_on) == ("at_risk", DAY)
    assert [n.id for n in page.notes] == [note]
    assert {t.status for t in page.tasks} == {"done", "open"}
    assert [a.signal for a in page.alerts] == ["usage_drop"]
    with pytest.raises(BookError, match="no account 'zz'"):
        add_note(book, "zz", "hello", actor=CSM)
    with pytest.raises(BookError, match="some text"):
        add_note(book, "a", "   ", actor=CSM)


def test_an_empty_book_reads_as_empty(engine) -> None:
    home = csm_home(engine, owners=[CSM])
    assert (home.as_of, home.accounts, home.alerts) == (None, [], [])
    assert account_book(engine, "a").stage is None
