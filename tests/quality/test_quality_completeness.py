"""Completeness: required columns, "at least one of" groups and recommended fields."""

from __future__ import annotations

from datetime import date

from quarterdeck.testing.quality_worlds import check_world, finding
from quarterdeck.testing.worlds import world

ACCOUNTS = [
    {"account_id": "a1", "name": "Acme", "domain": "acme.com", "created_at": "2024-01-01"},
    {"account_id": "a2", "name": "Globex", "created_at": "2024-01-01"},
    {"account_id": "a3", "name": "Initech", "domain": "initech.com", "created_at": "2024-02-01"},
    {"account_id": "a4", "name": "Hooli", "domain": "hooli.com", "created_at": "2024-03-01"},
    {"account_id": "late", "name": "Late Co", "created_at": "2024-07-15"},  # after the date
]


def test_a_recommended_field_empty_too_often_is_a_warning_with_examples():
    report = check_world(world(accounts=ACCOUNTS))
    row = finding(report, entity="accounts", rule="recommended", field="domain")
    # as of 2024-06-30 only a1–a4 exist; a2 has no domain: 1 of 4 = 25% > 5%
    assert (row.passed, row.failed, row.status, row.examples) == (3, 1, "warning", ("a2",))
    assert row.severity == "warning" and row.threshold == 0.05
    assert row.detail == "domain is filled (recommended): 1 of 4 rows fails"


def test_the_recommended_fields_threshold_and_severity_come_from_the_definitions():
    report = check_world(world(accounts=ACCOUNTS), definitions={"completeness": {
        "recommended": {"accounts": ["domain"]}, "threshold": 0.3, "severity": "error"}})
    row = finding(report, entity="accounts", rule="recommended")
    assert (row.field, row.failed, row.status) == ("domain", 1, "ok")
    assert "within the 30.0% allowed" in row.detail
    strict = check_world(world(accounts=ACCOUNTS), definitions={"completeness": {
        "recommended": {"accounts": ["domain"]}, "threshold": 0.1, "severity": "error"}})
    assert finding(strict, entity="accounts", rule="recommended").status == "error"


def test_an_empty_required_field_is_an_error():
    data = world(tickets=[
        {"ticket_id": "t1", "account_id": "a1", "created_at": "2024-06-01T10:00:00"},
        {"ticket_id": "t2", "created_at": "2024-06-02T10:00:00"},
    ])
    report = check_world(data)
    row = finding(report, entity="tickets", rule="required", field="account_id")
    assert (row.passed, row.failed, row.status, row.examples) == (1, 1, "error", ("t2",))
    assert finding(report, entity="tickets", rule="required", field="ticket_id").status == "ok"


def test_an_event_needs_an_account_or_a_user():
    data = world(events=[
        {"event_id": "e1", "timestamp": "2024-06-01T10:00:00", "event": "login",
         "account_id": "a1"},
        {"event_id": "e2", "timestamp": "2024-06-01T10:00:00", "event": "login",
         "user_id": "u1"},
        {"event_id": "e3", "timestamp": "2024-06-01T10:00:00", "event": "login"},
    ])
    row = finding(check_world(data), entity="events", field="account_id or user_id")
    assert (row.passed, row.failed, row.status, row.examples) == (2, 1, "error", ("e3",))


def test_only_rows_known_on_the_day_count_and_empty_entities_have_no_rows():
    early = check_world(world(accounts=ACCOUNTS), as_of=date(2024, 1, 31))
    assert finding(early, entity="accounts", field="domain").passed == 1
    assert finding(early, entity="accounts", field="domain").failed == 1
    assert {r.entity for r in early.rows} == {"accounts"}
    nothing = check_world(world(accounts=ACCOUNTS), as_of=date(2023, 12, 31))
    assert nothing.rows == []
    assert nothing.headline == "0 checks as of 2023-12-31: 0 errors, 0 warnings, 0 ok"


def test_an_entity_key_of_several_columns_names_examples_by_all_of_them():
    data = world(usage_daily=[
        {"date": "2024-06-01", "account_id": "a1", "metric": "storage", "value": 3},
        {"date": "2024-06-02", "metric": "storage", "value": 4},
    ])
    row = finding(check_world(data), entity="usage_daily", rule="required", field="account_id")
    assert row.examples == ("2024-06-02//storage",)
