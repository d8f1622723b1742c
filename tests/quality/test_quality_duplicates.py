"""Duplicates found: accounts merged by identity resolution, rows refused as duplicate ids."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from quarterdeck.quality.duplicates import read_rejects
from quarterdeck.testing.quality_worlds import check_world, finding
from quarterdeck.testing.worlds import world

ACCOUNTS = world(accounts=[
    {"account_id": "acme", "name": "Acme"},
    {"account_id": "zd-1", "name": "ACME, Inc."},
    {"account_id": "globex", "name": "Globex"},
    {"account_id": "stripe:cus_1", "name": "Acme Inc"},
    {"account_id": "stripe:cus_2", "name": "Initech"},
    {"account_id": "stripe:cus_3", "name": "ACME Incorporated"},
])
SOURCES = {"sources": {"stripe": {"kind": "stripe"}}}


def _resolution(*rows: tuple[str, str, str, str, float | None]) -> pa.Table:
    names = ["account_id", "customer_id", "source", "method", "match_probability"]
    return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)},
                    schema=pa.schema([(n, pa.float64() if n == "match_probability"
                                       else pa.string()) for n in names]))


RESOLUTION = _resolution(
    ("acme", "acme", "files", "self", None),
    ("zd-1", "acme", "files", "probabilistic", 0.97),
    ("globex", "globex", "files", "self", None),
    ("stripe:cus_1", "acme", "stripe", "shared_id", None),
    ("stripe:cus_2", "stripe:cus_2", "stripe", "self", None),
    ("stripe:cus_3", "acme", "stripe", "probabilistic", 0.95),
)


def test_without_identity_resolution_there_is_no_merged_line():
    report = check_world(ACCOUNTS, sources=SOURCES)
    assert [r for r in report.rows if r.check == "duplicates"] == []


def test_accounts_merged_with_one_of_their_own_source_are_counted_per_source():
    report = check_world(ACCOUNTS, sources=SOURCES, resolution=RESOLUTION)
    files = finding(report, check="duplicates", source="files")
    assert (files.entity, files.rule, files.passed, files.failed) == ("accounts", "merged", 2, 1)
    assert (files.status, files.examples) == ("warning", ("zd-1",))
    # Acme's first Stripe customer is Acme seen by billing; its second is a duplicate.
    stripe = finding(report, check="duplicates", source="stripe")
    assert (stripe.passed, stripe.failed, stripe.examples) == (2, 1, ("stripe:cus_3",))


def test_one_company_in_two_systems_is_not_a_duplicate():
    accounts = world(accounts=[{"account_id": "acme", "name": "Acme"},
                               {"account_id": "stripe:cus_1", "name": "Acme Inc"}])
    resolution = _resolution(("acme", "acme", "files", "self", None),
                             ("stripe:cus_1", "acme", "stripe", "shared_id", None))
    report = check_world(accounts, sources=SOURCES, resolution=resolution)
    stripe = finding(report, check="duplicates", source="stripe")
    assert (stripe.passed, stripe.failed, stripe.status) == (1, 0, "ok")


def test_rows_refused_as_duplicate_ids_count_once_however_often_the_file_was_retried(
        tmp_path: Path):
    rejects = tmp_path / "rejects"
    rejects.mkdir()
    header = "file,row,field,value,reason\n"
    body = ("/in/tickets.csv,2,ticket_id,t1,duplicate id: the same ticket_id is on row 1\n"
            "/in/tickets.csv,3,created_at,soon,not a timestamp\n"
            "/in/tickets.csv,5,ticket_id,t4,duplicate id: the same ticket_id is on row 4\n")
    (rejects / "tickets-20240601T100000-tickets.rejects.csv").write_text(header + body)
    (rejects / "tickets-20240602T100000-tickets.rejects.csv").write_text(header + body)
    (rejects / "accounts-20240602T100000-crm.rejects.csv").write_text(
        header + "/in/crm.ndjson,9,account_id,stripe:cus_1,duplicate id: the same account_id "
        "is on row 2\n")
    table = read_rejects(rejects)
    assert table.num_rows == 7 and set(table["entity"].to_pylist()) == {"tickets", "accounts"}
    data = world(accounts=[{"account_id": "stripe:cus_1", "name": "Acme"}], tickets=[
        {"ticket_id": f"t{i}", "account_id": "stripe:cus_1", "created_at": "2024-06-01T10:00:00"}
        for i in range(1, 7)])
    report = check_world(data, sources=SOURCES, rejects=table)
    tickets = finding(report, check="duplicates", entity="tickets")
    # 6 tickets loaded, 2 rows refused (each listed in both retries)
    assert (tickets.source, tickets.rule, tickets.passed, tickets.failed) == (
        "files", "refused_on_load", 6, 2)
    assert (tickets.status, tickets.examples) == ("warning", ("t1", "t4"))
    accounts = finding(report, check="duplicates", entity="accounts")
    assert (accounts.source, accounts.passed, accounts.failed) == ("stripe", 1, 1)


def test_a_workspace_without_rejects_reads_an_empty_table(tmp_path: Path):
    assert read_rejects(tmp_path / "missing").num_rows == 0
