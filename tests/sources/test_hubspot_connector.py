"""The HubSpot connector end to end: hubspot-api-client against a local fake of the CRM API,
through the sync engine into the warehouse."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from quarterdeck.errors import QuarterdeckError
from quarterdeck.sources.credentials import MissingCredential
from quarterdeck.sources.sync import SyncFailed, make_connector, sync_source
from quarterdeck.sources.sync_state import SyncState
from quarterdeck.testing.fake_hubspot import FakeHubSpot
from quarterdeck.warehouse.connection import connect
from quarterdeck.workspace.workspace import Workspace, open_workspace

FIXTURES = Path(__file__).parent / "fixtures" / "hubspot"
TOKEN = "pat-na1-11111111-2222-3333-4444-SecretPrivateApp"
OPTIONS = {"segment_property": "customer_segment", "region_property": "sales_region",
           "external_id_properties": {"billing": "stripe_customer_id"}, "currency": "USD"}
LIST = "/crm/v3/objects/{}"
SEARCH = "/crm/v3/objects/{}/search"


@pytest.fixture
def fake(monkeypatch):
    with FakeHubSpot.from_fixtures(FIXTURES, token=TOKEN) as server:
        monkeypatch.setenv("QUARTERDECK_CRM_ACCESS_TOKEN", TOKEN)
        yield server


def configure(ws: Workspace, fake: FakeHubSpot, **settings) -> Workspace:
    source = {"kind": "hubspot", "base_url": fake.url, "retry_base_seconds": 0.001,
              "max_retries": 2, "options": OPTIONS, **settings}
    (ws.definitions_dir / "sources.yml").write_text(yaml.safe_dump({"sources": {"crm": source}}))
    return open_workspace(ws.root)


def rows(ws: Workspace, sql: str) -> list[tuple]:
    con = connect(ws.warehouse_url)
    try:
        return con.raw_sql(sql).fetchall()
    finally:
        con.disconnect()


def state(ws: Workspace) -> SyncState:
    return SyncState.load(ws.data_dir / "sources" / "crm")


def test_a_full_sync_loads_companies_contacts_and_deals(workspace, fake):
    ws = configure(workspace, fake)
    result = sync_source(ws, "crm")
    assert result.objects == {"companies": 6, "contacts": 5, "deals": 6}
    # the contact and the deal of no company are skipped; the deal of an unmapped type is
    # set aside
    assert result.rows_loaded == 6 + 4 + 4 and result.rows_rejected == 1
    assert rows(ws, "SELECT account_id, name, domain, parent_account_id, segment, region, "
                    "country, owner_email, CAST(created_at AS VARCHAR), external_ids, is_deleted "
                    "FROM accounts ORDER BY account_id") == [
        ("crm:9001", "Acme Corporation", "acme.com", None, "Enterprise", "NA", "United States",
         "dana.whitfield@quarterdeck.example", "2023-01-10 09:00:00",
         '{"billing": "cus_N1acme"}', "false"),
        ("crm:9002", "Acme Europe GmbH", "acme.de", "crm:9001", "Enterprise", "EMEA", "Germany",
         "dana.whitfield@quarterdeck.example", "2023-03-02 14:30:00", None, "false"),
        ("crm:9003", "Globex Inc.", "globex.io", None, "SMB", "NA", "Canada",
         "ravi.menon@quarterdeck.example", "2023-06-21 16:05:12",
         '{"billing": "cus_N3globex"}', "false"),
        # owned by a deactivated owner: the email is still known
        ("crm:9004", "initech.com", "initech.com", None, "Mid-Market", "NA", "US",
         "sam.ortiz@quarterdeck.example", "2023-08-01 00:00:00", None, "false"),
        ("crm:9005", "Umbrella Health", None, None, None, None, None, None,
         "2024-02-14 11:11:11", None, "false"),
        ("crm:9006", "Hooli", "hooli.xyz", None, "SMB", "NA", "United States",
         "ravi.menon@quarterdeck.example", "2023-02-01 12:00:00", None, "true"),
    ]
    assert rows(ws, "SELECT contact_id, account_id, email, name, persona, is_deleted "
                    "FROM contacts ORDER BY contact_id") == [
        ("crm:5101", "crm:9001", "wile.coyote@acme.com", "Wile E. Coyote", "champion",
         "false"),
        ("crm:5102", "crm:9002", "greta.klein@acme.de", "Greta Klein", "decision_maker",
         "false"),
        ("crm:5103", "crm:9003", "hank@globex.io", "Hank Scorpio", "decision_maker", "false"),
        ("crm:5105", "crm:9003", "former@globex.io", "Former", None, "true"),
    ]
    assert rows(ws, "SELECT opportunity_id, account_id, kind, CAST(amount_arr AS VARCHAR), "
                    "currency, stage, CAST(close_date AS VARCHAR), outcome FROM opportunities "
                    "ORDER BY opportunity_id") == [
        ("crm:7201", "crm:9001", "renewal", "120000.000000", "USD", "contractsent",
         "2024-09-30", "open"),
        ("crm:7202", "crm:9002", "expansion", "24000.500000", "EUR", "closedwon",
         "2024-04-15", "won"),
        ("crm:7203", "crm:9003", "new", "9600.000000", "USD", "closedlost", "2023-06-15",
         "lost"),
        ("crm:7204", "crm:9005", "renewal", None, "USD", "qualifiedtobuy", "2025-02-14",
         "open"),
    ]
    rejects = "".join(Path(f).read_text() for f in result.rejects_files)
    assert "downgrade" in rejects
    saved = state(ws).object("companies")
    assert saved.cursor["phase"] == "search" and saved.cursor["changes"]["ids"] == []
    assert saved.newest.startswith("2024-05-04T09:00:00")
    # per object: the live listing with associations, then the recycle bin; no search yet
    paths = fake.paths()
    assert paths.count(LIST.format("companies")) == 2
    assert not any(p.endswith("/search") for p in paths)
    contacts = [r for r in fake.requests if r.path == LIST.format("contacts")]
    assert [r.params["archived"][0].lower() for r in contacts] == ["false", "true"]
    assert contacts[0].params["associations"] == ["companies"]
    assert all(r.authorized for r in fake.requests)


def test_pages_smaller_than_the_data_are_followed_through_after(workspace, fake):
    ws = configure(workspace, fake, page_size=2)
    result = sync_source(ws, "crm")
    assert result.objects == {"companies": 6, "contacts": 5, "deals": 6}
    companies = [r for r in fake.requests if r.path == LIST.format("companies")
                 and r.params["archived"][0].lower() == "false"]
    assert [r.params.get("after") for r in companies] == [None, ["OTAwMg=="], ["OTAwNA=="]]
    assert {r.params["limit"][0] for r in companies} == {"2"}
    assert len(rows(ws, "SELECT account_id FROM accounts")) == 6


def test_a_second_sync_searches_only_for_changes_and_picks_up_an_update(workspace, fake):
    ws = configure(workspace, fake)
    sync_source(ws, "crm")
    fake.upsert("companies", {"id": "9003", "properties": {"name": "Globex Corporation"}})
    fake.upsert("deals", {"id": "7201", "properties": {"dealstage": "closedwon",
                                                       "hs_is_closed": "true",
                                                       "hs_is_closed_won": "true"}})
    before = len(fake.requests)
    result = sync_source(ws, "crm")
    assert result.objects == {"companies": 1, "contacts": 0, "deals": 1}
    second = fake.requests[before:]
    searches = [r for r in second if r.path.endswith("/search")]
    assert [r.path for r in searches] == [SEARCH.format(o) for o in
                                          ("companies", "contacts", "deals")]
    first_filter = searches[0].body["filterGroups"][0]["filters"][0]
    assert first_filter["propertyName"] == "hs_lastmodifieddate"
    assert first_filter["operator"] == "GT"
    assert searches[1].body["filterGroups"][0]["filters"][0]["propertyName"] == (
        "lastmodifieddate")
    # no live listing again: only the recycle bins, and the deal's company in one batch
    assert not any(r.path.startswith("/crm/v3/objects/") and r.params.get("archived", [""])[0]
                   .lower() == "false" for r in second)
    assert "/crm/v4/associations/deals/companies/batch/read" in [r.path for r in second]
    assert rows(ws, "SELECT name FROM accounts WHERE account_id = 'crm:9003'") == [
        ("Globex Corporation",)]
    assert rows(ws, "SELECT account_id, outcome FROM opportunities "
                    "WHERE opportunity_id = 'crm:7201'") == [("crm:9001", "won")]
    cursor = state(ws).object("companies").cursor
    assert cursor["changes"]["ids"] == ["9003"]
    # a third sync with nothing changed reads nothing
    assert sync_source(ws, "crm").records == 0


def test_an_archived_company_loads_as_deleted_on_the_next_sync(workspace, fake):
    ws = configure(workspace, fake, objects=["companies"])
    sync_source(ws, "crm")
    fake.archive("companies", "9005")
    result = sync_source(ws, "crm")
    assert result.records == 1
    assert rows(ws, "SELECT is_deleted FROM accounts WHERE account_id = 'crm:9005'") == [
        ("true",)]


def test_changes_in_one_millisecond_fuller_than_a_page_are_all_read(workspace, fake):
    ws = configure(workspace, fake, page_size=2, objects=["companies"])
    sync_source(ws, "crm")
    stamp = "2030-01-01T00:00:00.000Z"
    for rid, name in (("9001", "Acme A"), ("9002", "Acme B"), ("9003", "Globex C"),
                      ("9004", "Initech D")):
        fake.upsert("companies", {"id": rid, "properties": {"name": name,
                                                            "hs_lastmodifieddate": stamp}})
    fake.upsert("companies", {"id": "9005", "properties": {
        "name": "Umbrella E", "hs_lastmodifieddate": "2030-01-01T00:00:01.000Z"}})
    before = len(fake.requests)
    sync_source(ws, "crm")
    assert rows(ws, "SELECT name FROM accounts WHERE account_id < 'crm:9006' ORDER BY 1") == [
        ("Acme A",), ("Acme B",), ("Globex C",), ("Initech D",), ("Umbrella E",)]
    bodies = [r.body for r in fake.requests[before:] if r.path.endswith("/search")]
    tie_reads = [b for b in bodies if b["sorts"][0]["propertyName"] == "hs_object_id"]
    assert tie_reads, "the crowded millisecond is read alone in id order"
    assert all(not (b.get("after")) for b in bodies)  # keyset: every page a fresh search
    assert state(ws).object("companies").cursor["changes"] == {
        "modified": "2030-01-01T00:00:01.000Z", "ids": ["9005"]}


def test_a_429_with_retry_after_is_retried(workspace, fake, caplog):
    caplog.set_level(logging.WARNING)
    ws = configure(workspace, fake)
    fake.fail(429, retry_after=1)
    started = time.monotonic()
    result = sync_source(ws, "crm")
    assert time.monotonic() - started >= 1  # not the 1 ms backoff: HubSpot's Retry-After
    assert result.records == 17
    assert fake.paths()[:2] == [LIST.format("companies")] * 2  # refused once, then answered
    assert "HTTP 429, retry 1 of 2" in caplog.text


def test_a_persistent_500_fails_the_sync_and_the_rerun_resumes_from_the_stored_cursor(
        workspace, fake):
    ws = configure(workspace, fake, page_size=2)
    # the first companies page and the owners arrive, then the server is down
    fake.fail(500, after=3, times=None)
    with pytest.raises(SyncFailed, match="HTTP 500: INTERNAL_ERROR"):
        sync_source(ws, "crm")
    assert len(fake.requests) == 3 + 3  # then a request and its 2 retries
    assert rows(ws, "SELECT account_id FROM accounts ORDER BY 1") == [("crm:9001",),
                                                                       ("crm:9002",)]
    saved = state(ws)
    assert saved.last_run.status == "failed"
    assert saved.object("companies").cursor["after"] == "OTAwMg=="
    fake.recover()
    before = len(fake.requests)
    result = sync_source(ws, "crm")
    assert result.objects == {"companies": 4, "contacts": 5, "deals": 6}
    resumed = fake.requests[before]
    assert resumed.path == LIST.format("companies") and resumed.params["after"] == ["OTAwMg=="]
    assert len(rows(ws, "SELECT account_id FROM accounts")) == 6


def test_a_search_that_fails_part_way_resumes_after_its_last_page(workspace, fake):
    ws = configure(workspace, fake, page_size=2, objects=["companies", "contacts"])
    sync_source(ws, "crm")
    for n, rid in enumerate(("5101", "5102", "5103")):
        fake.upsert("contacts", {"id": rid, "properties": {
            "jobtitle": f"Title {rid}", "lastmodifieddate": f"2030-01-01T00:00:0{n}.000Z"}})
    # the first page of changes arrives, then the search is down
    fake.fail(503, after=1, times=None, path=SEARCH.format("contacts"))
    with pytest.raises(SyncFailed, match="HTTP 503"):
        sync_source(ws, "crm")
    cursor = state(ws).object("contacts").cursor
    assert cursor == {"phase": "search", "after": None, "until": None,
                      "archived_since": cursor["archived_since"],
                      "changes": {"modified": "2030-01-01T00:00:01.000Z", "ids": ["5102"]}}
    fake.recover()
    result = sync_source(ws, "crm")
    assert result.objects == {"companies": 0, "contacts": 1}
    resumed = fake.searches("contacts")[-1]["filterGroups"][0]["filters"][0]
    assert resumed["value"] == "1893456001000"  # 2030-01-01T00:00:01Z, of contact 5102
    assert resumed["operator"] == "GTE"
    assert rows(ws, "SELECT title FROM contacts WHERE contact_id < 'crm:5104' "
                    "ORDER BY 1") == [("Title 5101",), ("Title 5102",), ("Title 5103",)]


def test_a_refusal_that_is_not_a_rate_limit_fails_at_once(workspace, fake):
    ws = configure(workspace, fake)
    fake.fail(403)
    with pytest.raises(SyncFailed, match="HTTP 403: MISSING_SCOPES"):
        sync_source(ws, "crm")
    assert len(fake.requests) == 1


def test_no_secret_reaches_logs_errors_or_state(workspace, fake, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    ws = configure(workspace, fake)
    fake.fail(500, after=1, times=None)
    with pytest.raises(SyncFailed) as failed:
        sync_source(ws, "crm")
    monkeypatch.setenv("QUARTERDECK_CRM_ACCESS_TOKEN", "pat-na1-WrongSecretToken")
    fake.recover()
    with pytest.raises(SyncFailed, match="HTTP 401: INVALID_AUTHENTICATION") as refused:
        sync_source(ws, "crm")
    assert not fake.requests[-1].authorized
    written = "".join(p.read_text(errors="replace") for p in ws.data_dir.rglob("*")
                      if p.is_file() and p.suffix in (".json", ".ndjson", ".csv", ".log"))
    for secret in (TOKEN, "WrongSecretToken"):
        assert secret not in caplog.text
        assert secret not in str(failed.value) and secret not in str(refused.value)
        assert secret not in (ws.data_dir / "sources" / "crm" / "state.json").read_text()
        assert secret not in written
    assert "retry 1 of 2" in caplog.text


def test_missing_credentials_name_the_variable_to_set(workspace, fake, monkeypatch):
    monkeypatch.delenv("QUARTERDECK_CRM_ACCESS_TOKEN")
    ws = configure(workspace, fake)
    with pytest.raises(MissingCredential, match="QUARTERDECK_CRM_ACCESS_TOKEN"):
        sync_source(ws, "crm")


def test_bad_options_are_refused_naming_the_source_and_option(workspace, fake):
    ws = configure(workspace, fake, options={"external_id_properties": {"billing": "Stripe Id"}})
    with pytest.raises(QuarterdeckError, match="source 'crm': options: "
                                               "external_id_properties: .*internal name"):
        make_connector(ws, "crm")


def test_quarterdeck_sync_runs_the_hubspot_source(workspace, fake):
    from quarterdeck.cli.main import app

    configure(workspace, fake)
    result = CliRunner().invoke(app, ["sync", "crm", "--workspace", str(workspace.root)],
                                catch_exceptions=False, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "crm: 17 records read, 14 rows loaded, 1 rows set aside" in result.output
    assert TOKEN not in result.output
