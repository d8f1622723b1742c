"""The Salesforce connector end to end: simple-salesforce against a local HTTPS fake of the
REST API, through the sync engine into the warehouse."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from quarterdeck.errors import QuarterdeckError
from quarterdeck.sources.credentials import MissingCredential
from quarterdeck.sources.sync import SyncFailed, make_connector, sync_source
from quarterdeck.sources.sync_state import SyncState
from quarterdeck.testing.fake_salesforce import FakeSalesforce
from quarterdeck.warehouse.connection import connect
from quarterdeck.workspace.workspace import Workspace, open_workspace

FIXTURES = Path(__file__).parent / "fixtures" / "salesforce"
TOKEN = "00DHs0000001Fake!AQ4AQSecretSessionToken.xyz"
OPTIONS = {"segment_field": "Segment__c", "region_field": "Region__c", "multi_currency": True,
           "external_id_fields": {"billing": "Stripe_Customer_Id__c"}}
ACME, ACME_EU, GLOBEX = "001Hs00001AcmeQAAR", "001Hs00001AcmeRAAR", "001Hs00001GlobQAAQ"


@pytest.fixture
def fake(monkeypatch):
    with FakeSalesforce.from_fixtures(FIXTURES, token=TOKEN) as server:
        # simple-salesforce speaks HTTPS only: trust the fake's own CA, as requests documents
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", server.ca_file)
        monkeypatch.setenv("QUARTERDECK_CRM_ACCESS_TOKEN", TOKEN)
        yield server


def configure(ws: Workspace, fake: FakeSalesforce, **settings) -> Workspace:
    source = {"kind": "salesforce", "base_url": fake.url, "retry_base_seconds": 0.001,
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


def test_a_full_sync_loads_accounts_contacts_and_opportunities(workspace, fake):
    ws = configure(workspace, fake)
    result = sync_source(ws, "crm")
    assert result.objects == {"Account": 5, "Contact": 4, "Opportunity": 5}
    # the private contact is skipped; the opportunity of an unmapped Type is set aside
    assert result.rows_loaded == 5 + 3 + 4 and result.rows_rejected == 1
    assert rows(ws, "SELECT account_id, name, domain, parent_account_id, segment, region, "
                    "country, owner_email, CAST(created_at AS VARCHAR), external_ids, is_deleted "
                    "FROM accounts ORDER BY account_id") == [
        (f"crm:{ACME}", "Acme Corporation", "acme.com", None, "Enterprise", "NA",
         "United States", "dana.whitfield@quarterdeck.example", "2023-01-10 09:00:00",
         '{"billing": "cus_N1acme"}', "false"),
        (f"crm:{ACME_EU}", "Acme Europe GmbH", "acme.de", f"crm:{ACME}", "Enterprise", "EMEA",
         "Germany", "dana.whitfield@quarterdeck.example", "2023-03-02 14:30:00", None, "false"),
        (f"crm:{GLOBEX}", "Globex Inc.", "globex.io", None, "SMB", "NA", "CA",
         "ravi.menon@quarterdeck.example", "2023-06-21 16:05:12",
         '{"billing": "cus_N3globex"}', "false"),
        ("crm:001Hs00001InitQAAY", "Initech", None, None, "Mid-Market", "NA", "US",
         "ravi.menon@quarterdeck.example", "2023-08-01 00:00:00", None, "true"),
        ("crm:001Hs00001UmbrQAAS", "Umbrella Health", None, None, None, None, None, None,
         "2024-02-14 11:11:11", None, "false"),
    ]
    assert rows(ws, "SELECT contact_id, account_id, email, title FROM contacts "
                    "ORDER BY contact_id") == [
        ("crm:003Hs00000GretQAAS", f"crm:{ACME_EU}", "greta.klein@acme.de", "Head of IT"),
        ("crm:003Hs00000HankQAAS", f"crm:{GLOBEX}", "hank@globex.io", "CEO"),
        ("crm:003Hs00000WileQAAS", f"crm:{ACME}", "wile.coyote@acme.com", "VP Operations"),
    ]
    assert rows(ws, "SELECT opportunity_id, account_id, kind, CAST(amount_arr AS VARCHAR), "
                    "currency, stage, CAST(close_date AS VARCHAR), outcome FROM opportunities "
                    "ORDER BY opportunity_id") == [
        ("crm:006Hs00000NewbQAAS", f"crm:{GLOBEX}", "new", "9600.000000", "USD",
         "Closed Lost", "2023-06-15", "lost"),
        ("crm:006Hs00000RenwQAAS", f"crm:{ACME}", "renewal", "120000.000000", "USD",
         "Negotiation/Review", "2024-09-30", "open"),
        ("crm:006Hs00000UmbrQAAS", "crm:001Hs00001UmbrQAAS", "renewal", None, "USD",
         "Qualification", "2025-02-14", "open"),
        ("crm:006Hs00000UpgrQAAS", f"crm:{ACME_EU}", "expansion", "24000.500000", "EUR",
         "Closed Won", "2024-04-15", "won"),
    ]
    rejects = "".join(Path(f).read_text() for f in result.rejects_files)
    assert "Existing Customer - Downgrade" in rejects
    saved = state(ws)
    assert saved.object("Account").cursor == {"system_modstamp": "2024-05-04T09:00:00.000Z",
                                              "id": "001Hs00001UmbrQAAS"}
    assert saved.object("Opportunity").newest.startswith("2024-05-04T10:00:00")
    # one queryAll per object, every deleted record included, oldest change first, in
    # Salesforce's default (and largest) batches when no page_size is set
    assert [r.path for r in fake.requests] == ["/services/data/v59.0/queryAll/"] * 3
    assert {r.headers["sforce-query-options"] for r in fake.requests} == {"batchSize=2000"}
    assert all(q.endswith("ORDER BY SystemModstamp, Id") and " WHERE " not in q
               for q in fake.queries())


def test_batches_are_followed_through_next_records_url(workspace, fake):
    ws = configure(workspace, fake, page_size=50)
    fake.batch_cap = 2  # Salesforce may answer smaller batches than it is asked for
    result = sync_source(ws, "crm")
    assert result.objects == {"Account": 5, "Contact": 4, "Opportunity": 5}
    account_requests = fake.requests[:3]
    assert [r.path.rsplit("/", 2)[-2:] for r in account_requests] == [
        ["queryAll", ""], ["query", "01gFAKE00000000-2"], ["query", "01gFAKE00000000-4"]]
    # page_size is sent within Salesforce's bounds of 200 to 2,000
    assert {r.headers["sforce-query-options"] for r in fake.requests} == {"batchSize=200"}
    assert len(fake.requests) == 3 + 2 + 3


def test_expired_batches_are_asked_for_again_from_the_last_page(workspace, fake):
    ws = configure(workspace, fake, objects=["Account"])
    fake.batch_cap = 2

    def expire_after_first_page(obj: str, read: int) -> None:
        if read == 2:
            fake.expire_queries()

    result = sync_source(ws, "crm", progress=expire_after_first_page)
    assert result.objects == {"Account": 5}
    assert len(fake.queries("Account")) == 2
    assert f"Id > '{ACME_EU}'" in fake.queries("Account")[1]
    assert len(rows(ws, "SELECT account_id FROM accounts")) == 5


def test_a_second_sync_asks_only_for_what_changed_and_picks_up_an_update(workspace, fake):
    ws = configure(workspace, fake)
    sync_source(ws, "crm")
    fake.upsert("Account", {"Id": GLOBEX, "Name": "Globex Corporation",
                            "SystemModstamp": "2024-06-01T12:00:00.000+0000"})
    before = len(fake.requests)
    result = sync_source(ws, "crm")
    assert result.records == 1 and result.objects == {"Account": 1}
    second = [r.soql for r in fake.requests[before:]]
    assert len(second) == 3
    assert ("WHERE SystemModstamp >= 2024-05-04T09:00:00.000Z AND (SystemModstamp > "
            "2024-05-04T09:00:00.000Z OR Id > '001Hs00001UmbrQAAS')") in second[0]
    assert "OR Id > '006Hs00000UmbrQAAS'" in second[2]
    assert rows(ws, f"SELECT name FROM accounts WHERE account_id = 'crm:{GLOBEX}'") == [
        ("Globex Corporation",)]
    assert state(ws).object("Account").cursor["system_modstamp"] == "2024-06-01T12:00:00.000Z"


def test_a_persistent_500_fails_the_sync_and_the_rerun_resumes_from_the_stored_cursor(
        workspace, fake):
    ws = configure(workspace, fake)
    fake.batch_cap = 2
    fake.fail(500, after=1, times=None)  # the first batch arrives, then the server is down
    with pytest.raises(SyncFailed, match="UNKNOWN_EXCEPTION"):
        sync_source(ws, "crm")
    assert len(fake.requests) == 1 + 3  # the first batch, then a request and its 2 retries
    assert rows(ws, "SELECT account_id FROM accounts ORDER BY 1") == [
        (f"crm:{ACME}",), (f"crm:{ACME_EU}",)]
    saved = state(ws)
    assert saved.last_run.status == "failed"
    assert saved.object("Account").cursor == {"system_modstamp": "2024-05-01T08:00:00.000Z",
                                              "id": ACME_EU}
    fake.recover()
    before = len(fake.requests)
    result = sync_source(ws, "crm")
    assert result.objects == {"Account": 3, "Contact": 4, "Opportunity": 5}
    resumed = fake.requests[before]
    assert resumed.path.endswith("/queryAll/") and f"Id > '{ACME_EU}'" in resumed.soql
    assert len(rows(ws, "SELECT account_id FROM accounts")) == 5


def test_records_changed_in_the_same_instant_survive_a_stop_between_them(workspace, fake):
    ws = configure(workspace, fake)
    fake.batch_cap = 1  # Acme and Acme Europe share a SystemModstamp: one per batch
    fake.fail(500, after=1, times=None)
    with pytest.raises(SyncFailed):
        sync_source(ws, "crm")
    assert state(ws).object("Account").cursor["id"] == ACME
    fake.recover()
    sync_source(ws, "crm")
    assert (f"crm:{ACME_EU}",) in rows(ws, "SELECT account_id FROM accounts")


@pytest.mark.parametrize("status, code", [(429, None), (403, "REQUEST_LIMIT_EXCEEDED"),
                                          (503, None)])
def test_rate_limits_and_server_errors_are_retried(workspace, fake, status, code):
    ws = configure(workspace, fake)
    fake.fail(status, error_code=code, retry_after=0)
    result = sync_source(ws, "crm")
    assert result.records == 14
    assert len(fake.queries("Account")) == 2  # refused once, then answered


def test_a_refusal_that_is_not_a_rate_limit_fails_at_once(workspace, fake):
    ws = configure(workspace, fake)
    fake.fail(403, error_code="API_DISABLED_FOR_ORG")
    with pytest.raises(SyncFailed, match="API_DISABLED_FOR_ORG"):
        sync_source(ws, "crm")
    assert len(fake.requests) == 1


def test_no_secret_reaches_logs_errors_or_state(workspace, fake, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    ws = configure(workspace, fake)
    fake.fail(500, after=1, times=None)
    with pytest.raises(SyncFailed) as failed:
        sync_source(ws, "crm")
    monkeypatch.setenv("QUARTERDECK_CRM_ACCESS_TOKEN", "00DHs!WrongSecretToken")
    fake.recover()
    with pytest.raises(QuarterdeckError, match="refused the session") as refused:
        sync_source(ws, "crm")
    assert fake.requests[-1].headers["authorization"] == "Bearer 00DHs!WrongSecretToken"
    written = "".join(p.read_text(errors="replace") for p in ws.data_dir.rglob("*")
                      if p.is_file() and p.suffix in (".json", ".ndjson", ".csv", ".log"))
    for secret in (TOKEN, "WrongSecretToken"):
        assert secret not in caplog.text
        assert secret not in str(failed.value) and secret not in str(refused.value)
        assert secret not in (ws.data_dir / "sources" / "crm" / "state.json").read_text()
        assert secret not in written
    assert "retry 1 of 2" in caplog.text


def test_username_and_password_log_in_through_simple_salesforce(workspace, fake, monkeypatch):
    monkeypatch.delenv("QUARTERDECK_CRM_ACCESS_TOKEN")
    monkeypatch.setenv("QUARTERDECK_CRM_USERNAME", "integration@acme.example")
    monkeypatch.setenv("QUARTERDECK_CRM_PASSWORD", "hunter2")
    monkeypatch.setenv("QUARTERDECK_CRM_SECURITY_TOKEN", "tok")
    seen = {}

    class Login:
        def __init__(self, **kwargs):
            seen.update(kwargs)

    monkeypatch.setattr("quarterdeck.sources.salesforce_connector.Salesforce", Login)
    ws = configure(workspace, fake, options={"domain": "test"})
    make_connector(ws, "crm").client()
    assert {k: seen[k] for k in ("username", "password", "security_token", "domain",
                                 "version")} == {
        "username": "integration@acme.example", "password": "hunter2",
        "security_token": "tok", "domain": "test", "version": "59.0"}


def test_missing_credentials_name_the_variables_to_set(workspace, fake, monkeypatch):
    monkeypatch.delenv("QUARTERDECK_CRM_ACCESS_TOKEN")
    ws = configure(workspace, fake)
    with pytest.raises(MissingCredential, match="QUARTERDECK_CRM_ACCESS_TOKEN and "
                                                "QUARTERDECK_CRM_INSTANCE_URL"):
        sync_source(ws, "crm")


def test_bad_options_and_a_plain_http_address_are_refused(workspace, fake):
    ws = configure(workspace, fake, options={"segment_field": "Seg ment"})
    with pytest.raises(QuarterdeckError, match="options: segment_field: .*API name"):
        make_connector(ws, "crm")
    ws = configure(workspace, fake, base_url="http://127.0.0.1:1")
    with pytest.raises(QuarterdeckError, match="https://"):
        make_connector(ws, "crm")


def test_quarterdeck_sync_runs_the_salesforce_source(workspace, fake):
    from quarterdeck.cli.main import app

    configure(workspace, fake)
    result = CliRunner().invoke(app, ["sync", "crm", "--workspace", str(workspace.root)],
                                catch_exceptions=False, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "crm: 14 records read, 12 rows loaded, 1 rows set aside" in result.output
