"""Orphans: rows naming an account, contact or user that does not exist."""

from __future__ import annotations

from quarterdeck.testing.quality_worlds import check_world, finding
from quarterdeck.testing.worlds import world

ACCOUNTS = [{"account_id": "acme", "name": "Acme"}, {"account_id": "globex", "name": "Globex"}]


def test_tickets_of_an_unknown_account_are_orphans():
    data = world(accounts=ACCOUNTS, tickets=[
        {"ticket_id": "t1", "account_id": "acme", "created_at": "2024-06-01T10:00:00"},
        {"ticket_id": "t2", "account_id": "acme-old", "created_at": "2024-06-02T10:00:00"},
        {"ticket_id": "t3", "account_id": "gone", "created_at": "2024-06-03T10:00:00"},
    ])
    row = finding(check_world(data), entity="tickets", check="orphans")
    assert (row.rule, row.field, row.passed, row.failed) == ("unknown_account", "account_id", 1, 2)
    assert (row.status, row.severity, row.examples) == ("warning", "warning", ("t2", "t3"))
    assert row.detail == "account_id names a known account: 2 of 3 rows fail"


def test_an_unknown_parent_account_is_an_orphan_and_no_parent_is_not_judged():
    data = world(accounts=[
        *ACCOUNTS, {"account_id": "acme-eu", "name": "Acme EU", "parent_account_id": "acme"},
        {"account_id": "lost", "name": "Lost", "parent_account_id": "nobody"}])
    row = finding(check_world(data), entity="accounts", check="orphans")
    assert (row.field, row.passed, row.failed, row.examples) == (
        "parent_account_id", 1, 1, ("lost",))


def test_events_whose_user_maps_to_no_known_account_are_orphans():
    data = world(
        accounts=ACCOUNTS,
        users=[{"user_id": "u1", "account_id": "acme"},
               {"user_id": "u2", "account_id": "closed"}],  # itself an orphan
        events=[
            {"event_id": "e1", "timestamp": "2024-06-01T10:00:00", "event": "x", "user_id": "u1"},
            {"event_id": "e2", "timestamp": "2024-06-01T10:00:00", "event": "x", "user_id": "u2"},
            {"event_id": "e3", "timestamp": "2024-06-01T10:00:00", "event": "x",
             "user_id": "stranger"},
            # an account id of its own: the user does not decide
            {"event_id": "e4", "timestamp": "2024-06-01T10:00:00", "event": "x",
             "account_id": "globex", "user_id": "stranger"},
        ])
    report = check_world(data)
    by_user = finding(report, entity="events", rule="unknown_user")
    assert (by_user.passed, by_user.failed, by_user.examples) == (1, 2, ("e2", "e3"))
    by_account = finding(report, entity="events", rule="unknown_account")
    assert (by_account.passed, by_account.failed) == (1, 0)
    users = finding(report, entity="users", check="orphans")
    assert (users.failed, users.examples) == (1, ("u2",))


def test_surveys_naming_an_unknown_contact_are_orphans():
    data = world(accounts=ACCOUNTS,
                 contacts=[{"contact_id": "c1", "account_id": "acme"}],
                 surveys=[
                     {"response_id": "r1", "account_id": "acme", "contact_id": "c1",
                      "kind": "nps", "score": 9, "responded_at": "2024-06-01T10:00:00"},
                     {"response_id": "r2", "account_id": "acme", "contact_id": "c9",
                      "kind": "nps", "score": 3, "responded_at": "2024-06-02T10:00:00"},
                     {"response_id": "r3", "account_id": "acme",
                      "kind": "nps", "score": 7, "responded_at": "2024-06-03T10:00:00"},
                 ])
    row = finding(check_world(data), entity="surveys", rule="unknown_contact")
    assert (row.passed, row.failed, row.examples) == (1, 1, ("r2",))


def test_orphan_severity_and_threshold_come_from_the_definitions():
    data = world(accounts=ACCOUNTS, tickets=[
        {"ticket_id": "t1", "account_id": "acme", "created_at": "2024-06-01T10:00:00"},
        {"ticket_id": "t2", "account_id": "gone", "created_at": "2024-06-02T10:00:00"},
    ])
    report = check_world(data, definitions={"orphans": {"severity": "error", "threshold": 0.6}})
    assert finding(report, entity="tickets", check="orphans").status == "ok"
    report = check_world(data, definitions={"orphans": {"severity": "error"}})
    assert finding(report, entity="tickets", check="orphans").status == "error"


def test_links_no_row_uses_leave_no_line():
    data = world(accounts=ACCOUNTS)
    assert [r for r in check_world(data).rows if r.check == "orphans"] == []
