"""Every contract rule, one bad file each: the file is refused and the problem is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from quarterdeck.ingest import load_into_workspace
from quarterdeck.warehouse.connection import connect
from tests.conftest import write

ACCOUNTS = """
account_id,name,owner_email,created_at
a1,Acme,jo@acme.test,2024-01-01
a2,Beta,,2024-02-01T09:00:00Z
"""

SUB_HEADER = ("subscription_id,account_id,plan,quantity,unit_price,discount,currency,"
              "interval_months,start_date,end_date,trial\n")
GOOD_SUB = "s1,a1,Pro,10,50,0.2,USD,1,2024-01-01,,false\n"

# (file name, content, expected row, field, words in the reason)
CASES = [
    ("subscriptions.csv", SUB_HEADER + GOOD_SUB + "s2,a1,Pro,ten,50,0,USD,1,2024-01-01,,false\n",
     2, "quantity", "not a number"),
    ("subscriptions.csv", SUB_HEADER + GOOD_SUB + "s2,a1,,10,50,0,USD,1,2024-01-01,,false\n",
     2, "plan", "required value is missing"),
    ("subscriptions.csv", SUB_HEADER + GOOD_SUB + "s2,a1,Pro,10,-5,0,USD,1,2024-01-01,,false\n",
     2, "unit_price", "must not be negative"),
    ("subscriptions.csv", SUB_HEADER + GOOD_SUB + "s2,a1,Pro,-1,5,0,USD,1,2024-01-01,,false\n",
     2, "quantity", "must not be negative"),
    ("subscriptions.csv", SUB_HEADER + GOOD_SUB + "s2,a1,Pro,1,5,1.5,USD,1,2024-01-01,,false\n",
     2, "discount", "at most 1"),
    ("subscriptions.csv", SUB_HEADER + GOOD_SUB + "s2,a1,Pro,1,5,0,DOLLARS,1,2024-01-01,,false\n",
     2, "currency", "ISO 4217"),
    ("subscriptions.csv", SUB_HEADER + GOOD_SUB + "s2,a1,Pro,1,5,0,USD,1.5,2024-01-01,,false\n",
     2, "interval_months", "whole number"),
    ("subscriptions.csv", SUB_HEADER + GOOD_SUB + "s2,a1,Pro,1,5,0,USD,0,2024-01-01,,false\n",
     2, "interval_months", "at least 1"),
    ("subscriptions.csv", SUB_HEADER + GOOD_SUB + "s2,a1,Pro,1,5,0,USD,1,01/02/2024,,false\n",
     2, "start_date", "not an ISO date: write it as YYYY-MM-DD"),
    ("subscriptions.csv", SUB_HEADER + GOOD_SUB + "s2,a1,Pro,1,5,0,USD,1,2023-02-29,,false\n",
     2, "start_date", "not a real date"),
    ("subscriptions.csv", SUB_HEADER + GOOD_SUB + "s2,a1,Pro,1,5,0,USD,1,2024-03-01,2024-03-01,\n",
     2, "end_date", "after start_date"),
    ("subscriptions.csv", SUB_HEADER + GOOD_SUB + "s2,a1,Pro,1,5,0,USD,1,2024-03-01,,perhaps\n",
     2, "trial", "boolean"),
    ("subscriptions.csv", SUB_HEADER + GOOD_SUB + "s2,zz,Pro,1,5,0,USD,1,2024-03-01,,\n",
     2, "account_id", "unknown account"),
    ("subscriptions.csv", SUB_HEADER + GOOD_SUB + GOOD_SUB,
     2, "subscription_id", "duplicate id"),
    ("tickets.csv", "ticket_id,account_id,created_at,solved_at,priority\n"
     "t1,a1,2024-01-05T10:00:00Z,2024-01-04T10:00:00Z,high\n",
     1, "solved_at", "on or after created_at"),
    ("tickets.csv", "ticket_id,account_id,created_at,priority\nt1,a1,2024-01-05,critical\n",
     1, "priority", "one of: low, normal, high, urgent"),
    ("tickets.csv", "ticket_id,account_id,created_at,csat\nt1,a1,yesterday,3\n",
     1, "created_at", "ISO 8601"),
    ("tickets.csv", "ticket_id,account_id,created_at,csat\nt1,a1,2024-01-05,6\n",
     1, "csat", "at most 5"),
    ("surveys.csv", "response_id,account_id,kind,score,responded_at\nr1,a1,nps,11,2024-01-05\n",
     1, "score", "nps score must be between 0 and 10"),
    ("surveys.csv", "response_id,account_id,kind,score,responded_at\nr1,a1,csat,0,2024-01-05\n",
     1, "score", "csat score must be between 1 and 5"),
    ("events.csv", "event_id,timestamp,event\ne1,2024-01-05T10:00:00Z,login\n",
     1, "account_id/user_id", "one of account_id, user_id is required"),
    ("events.csv", "event_id,timestamp,event,account_id,properties\n"
     "e1,2024-01-05T10:00:00Z,login,a1,{not json\n",
     1, "properties", "not valid JSON"),
    ("team.csv", "email,name,role\nnot-an-email,Jo,csm\n", 1, "email", "email address"),
    ("team.csv", "email,name,role\njo@acme.test,Jo,boss\n", 1, "role", "one of: csm"),
    ("accounts.csv", "account_id,name,parent_account_id\na9,Nine,nope\n",
     1, "parent_account_id", "unknown account"),
    ("fx_rates.csv", "date,currency,rate_to_base\n2024-01-01,EUR,-1.1\n",
     1, "rate_to_base", "must be positive"),
    ("fx_rates.csv", "date,currency,rate_to_base\n2024-01-01,EUR,0\n",
     1, "rate_to_base", "must be positive"),
    ("contacts.csv", "contact_id,account_id,persona,created_at,left_at\n"
     "c1,a1,boss,2024-01-01,2023-01-01\n", 1, "persona", "one of: champion"),
]


@pytest.fixture
def loaded(workspace):
    report = load_into_workspace(workspace, [write(workspace.root / "in" / "accounts.csv",
                                                   ACCOUNTS)])
    assert report.ok, report
    return workspace


@pytest.mark.parametrize(("name", "content", "row", "field", "reason"), CASES,
                         ids=[f"{c[0]}:{c[3]}:{c[4]}" for c in CASES])
def test_bad_file_is_refused_whole_with_the_problem_named(loaded, name, content, row, field,
                                                          reason):
    path = loaded.root / "bad" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(content)
    entity = name.split(".")[0]
    con = connect(loaded.warehouse_url)
    before = con.table(entity).count().execute()
    con.disconnect()

    report = load_into_workspace(loaded, [path])

    result = report.files[0]
    assert result.status == "rejected" and not report.ok
    assert any(p.row == row and p.field == field and reason in p.reason
               for p in result.problems), [str(p) for p in result.problems]
    con = connect(loaded.warehouse_url)
    assert con.table(entity).count().execute() == before  # nothing of the file was loaded
    con.disconnect()
    rejects = Path(result.rejects_file).read_text()
    assert rejects.splitlines()[0] == "file,line,row,field,value,reason"
    assert f",{row + 1},{row},{field}," in rejects  # a CSV's header is line 1


def test_missing_required_column_names_the_column(loaded):
    path = write(loaded.root / "bad" / "subscriptions.csv",
                 "subscription_id,account_id,plan,quantity\ns1,a1,Pro,1\n")
    result = load_into_workspace(loaded, [path]).files[0]
    assert result.status == "rejected"
    missing = {p.field for p in result.problems}
    assert missing == {"unit_price", "currency", "interval_months", "start_date"}
    assert all(p.row is None and "missing from the header" in p.reason for p in result.problems)


def test_skip_invalid_loads_the_valid_rows_and_writes_the_rejects(loaded):
    path = write(loaded.root / "in" / "subscriptions.csv",
                 SUB_HEADER + GOOD_SUB + "s2,a1,Pro,ten,50,0,USD,1,2024-01-01,,false\n"
                 "s3,a2,Pro,1,50,0,usd,12,2024-01-01,2025-01-01,\n")
    report = load_into_workspace(loaded, [path], skip_invalid=True)
    result = report.files[0]
    assert report.ok
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 2, 1)
    assert Path(result.rejects_file).read_text().count("\n") == 2  # header + one problem
    con = connect(loaded.warehouse_url)
    subs = con.table("subscriptions").order_by("subscription_id").execute()
    con.disconnect()
    assert list(subs.subscription_id) == ["s1", "s3"]
    assert list(subs.currency) == ["USD", "USD"]  # currency codes are normalised upper-case
