"""Freshness: the newest row of each source and entity against the source's cadence."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from quarterdeck.quality.freshness import age_text, duration_text
from quarterdeck.testing.quality_worlds import AS_OF, check_world, finding, stale_help_desk
from quarterdeck.testing.worlds import world


def _tickets(*created: tuple[str, str]) -> dict:
    return world(tickets=[{"ticket_id": tid, "account_id": "a1", "created_at": at}
                          for tid, at in created])


def test_a_help_desk_export_that_stopped_is_stale():
    report = check_world(stale_help_desk())
    row = finding(report, entity="tickets", check="freshness")
    assert (row.source, row.field, row.status, row.severity) == (
        "files", "created_at", "error", "error")
    assert row.detail == "tickets from files are 9 days old (expected every 1d)"
    # the ticket of 2024-07-02 was not known yet
    assert row.newest_at == datetime(2024, 6, 20, 14, 0)
    assert report.stale == [row]
    meetings = finding(report, entity="activities", check="freshness")
    assert (meetings.status, meetings.detail) == (
        "ok", "activities from files are 6 h old (expected every 1d)")


def test_yesterdays_rows_are_fresh_with_a_daily_cadence_and_older_ones_are_not():
    fresh = check_world(_tickets(("t1", "2024-06-29T00:30:00")))
    assert finding(fresh, check="freshness").status == "ok"
    stale = check_world(_tickets(("t1", "2024-06-28T23:00:00")))
    row = finding(stale, check="freshness")
    assert (row.status, row.detail) == ("error", "tickets from files are 1 day old "
                                                 "(expected every 1d)")


def test_the_cadence_comes_from_the_sources_config_per_entity():
    data = _tickets(("t1", "2024-06-20T14:00:00"))
    relaxed = check_world(data, sources={"files": {"freshness": {"tickets": "2w"}}})
    row = finding(relaxed, check="freshness")
    assert (row.status, row.detail) == ("ok", "tickets from files are 9 days old "
                                              "(expected every 14d)")
    warned = check_world(data, definitions={"freshness": {"severity": "warning"}})
    assert finding(warned, check="freshness").status == "warning"


def test_each_source_is_judged_against_its_own_cadence():
    data = _tickets(("zendesk:1", "2024-06-29T20:00:00"), ("zendesk:2", "2024-06-29T10:00:00"),
                    ("T-9", "2024-06-25T10:00:00"))
    report = check_world(data, sources={
        "sources": {"zendesk": {"kind": "zendesk", "expected_every": "6h"}},
        "files": {"expected_every": "7d"}})
    zendesk = finding(report, check="freshness", source="zendesk")
    assert (zendesk.status, zendesk.detail) == (
        "ok", "tickets from zendesk are 4 h old (expected every 6h)")
    files = finding(report, check="freshness", source="files")
    assert (files.status, files.detail) == ("ok", "tickets from files are 4 days old "
                                                  "(expected every 7d)")
    later = check_world(data, as_of=date(2024, 7, 1), sources={
        "sources": {"zendesk": {"kind": "zendesk", "expected_every": "6h"}}})
    assert finding(later, check="freshness", source="zendesk").status == "error"


def test_only_the_listed_entities_with_rows_are_checked():
    report = check_world(stale_help_desk())
    assert {r.entity for r in report.rows if r.check == "freshness"} == {"tickets", "activities"}
    none = check_world(stale_help_desk(), definitions={"freshness": {"entities": []}})
    assert [r for r in none.rows if r.check == "freshness"] == []
    accounts = check_world(stale_help_desk(), definitions={"freshness": {
        "entities": ["accounts"]}})
    row = finding(accounts, check="freshness")
    assert (row.entity, row.field, row.status) == ("accounts", "created_at", "error")


def test_a_date_column_is_aged_from_its_day():
    data = world(usage_daily=[{"date": "2024-06-29", "account_id": "a1", "metric": "storage",
                               "value": 1}])
    report = check_world(data, definitions={"freshness": {"entities": ["usage_daily"]}})
    row = finding(report, check="freshness")
    assert (row.status, row.detail) == ("ok", "usage_daily from files are 1 day old "
                                              "(expected every 1d)")
    assert AS_OF - row.newest_at.date() == timedelta(days=1)


def test_ages_and_cadences_read_as_words():
    assert [age_text(timedelta(days=21, hours=5)), age_text(timedelta(days=1)),
            age_text(timedelta(hours=5, minutes=59)), age_text(timedelta(minutes=40))] == [
        "21 days", "1 day", "5 h", "40 min"]
    assert [duration_text(timedelta(days=14)), duration_text(timedelta(hours=6)),
            duration_text(timedelta(minutes=30))] == ["14d", "6h", "30m"]
