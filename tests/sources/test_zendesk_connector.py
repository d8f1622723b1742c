"""The Zendesk connector end to end: zenpy against a local HTTPS fake of the Support API,
through the sync engine into the warehouse."""

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
from quarterdeck.testing.fake_zendesk import FakeZendesk
from quarterdeck.warehouse.connection import connect
from quarterdeck.workspace.workspace import Workspace, open_workspace

FIXTURES = Path(__file__).parent / "fixtures" / "zendesk"
EMAIL = "integration@acme.example"
TOKEN = "zdApiTok3nSecretValue9f8e7d6c5b4a"
OPTIONS = {"segment_field": "tier", "region_field": "region", "owner_field": "csm_email",
           "external_id_fields": {"billing": "stripe_customer_id"}}
ORGS = "/api/v2/incremental/organizations.json"
TICKETS = "/api/v2/incremental/tickets/cursor.json"
RATINGS = "/api/v2/satisfaction_ratings"
SHOW_MANY = "/api/v2/tickets/show_many.json"
MAY_1_8AM, MAY_4_0930, MAY_4_11 = 1714550400, 1714815000, 1714820400


@pytest.fixture
def fake(monkeypatch):
    with FakeZendesk.from_fixtures(FIXTURES, email=EMAIL, api_token=TOKEN) as server:
        # zenpy speaks HTTPS only: trust the fake's own CA, as requests documents
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", server.ca_file)
        monkeypatch.setenv("QUARTERDECK_SUPPORT_EMAIL", EMAIL)
        monkeypatch.setenv("QUARTERDECK_SUPPORT_API_TOKEN", TOKEN)
        yield server


def configure(ws: Workspace, fake: FakeZendesk, **settings) -> Workspace:
    source = {"kind": "zendesk", "base_url": fake.url, "retry_base_seconds": 0.001,
              "max_retries": 2, "options": OPTIONS, **settings}
    (ws.definitions_dir / "sources.yml").write_text(
        yaml.safe_dump({"sources": {"support": source}}))
    return open_workspace(ws.root)


def rows(ws: Workspace, sql: str) -> list[tuple]:
    con = connect(ws.warehouse_url)
    try:
        return con.raw_sql(sql).fetchall()
    finally:
        con.disconnect()


def state(ws: Workspace) -> SyncState:
    return SyncState.load(ws.data_dir / "sources" / "support")


def test_a_full_sync_loads_accounts_tickets_and_surveys(workspace, fake):
    ws = configure(workspace, fake)
    result = sync_source(ws, "support")
    assert result.objects == {"organizations": 5, "tickets": 6, "satisfaction_ratings": 4}
    # the ticket of no organization and the rating of its ticket are skipped
    assert result.rows_loaded == 5 + 5 + 3 and result.rows_rejected == 0
    assert rows(ws, "SELECT account_id, name, domain, segment, region, owner_email, "
                    "CAST(created_at AS VARCHAR), external_ids, is_deleted FROM accounts "
                    "ORDER BY account_id") == [
        ("support:361", "Acme Corporation", "acme.com", "Enterprise", "NA",
         "dana.whitfield@quarterdeck.example", "2023-01-10 09:00:00",
         '{"billing": "cus_N1acme"}', "false"),
        ("support:362", "Globex Inc.", "globex.io", "SMB", "NA",
         "ravi.menon@quarterdeck.example", "2023-06-21 16:05:12",
         '{"billing": "cus_N3globex"}', "false"),
        ("support:363", "Initech", "initech.com", "Mid-Market", "NA", None,
         "2023-08-01 00:00:00", None, "true"),
        ("support:364", "Umbrella Health", None, None, None, None, "2024-02-14 11:11:11",
         None, "false"),
        ("support:365", "Soylent Corp", "soylent.example", "Enterprise", "EMEA",
         "dana.whitfield@quarterdeck.example", "2024-03-05 07:45:00", None, "false"),
    ]
    assert rows(ws, "SELECT ticket_id, account_id, CAST(created_at AS VARCHAR), "
                    "CAST(solved_at AS VARCHAR), priority, status, csat FROM tickets "
                    "ORDER BY ticket_id") == [
        ("support:35", "support:361", "2024-04-02 09:15:00", "2024-04-03 17:30:00", "high",
         "solved", 5),
        ("support:36", "support:361", "2024-04-20 10:00:00", None, "urgent", "open", None),
        ("support:37", "support:362", "2024-03-01 08:00:00", "2024-03-04 12:00:00", None,
         "closed", 1),
        ("support:39", "support:363", "2024-04-10 13:20:00", None, "low", "deleted", None),
        ("support:40", "support:364", "2024-04-28 15:00:00", "2024-05-04 10:00:00", "normal",
         "solved", 5),
    ]
    assert rows(ws, "SELECT response_id, account_id, contact_id, kind, score, comment, "
                    "CAST(responded_at AS VARCHAR) FROM surveys ORDER BY response_id") == [
        ("support:7001", "support:361", "support:9001", "csat", 5, "Quick fix, thanks!",
         "2024-04-04 08:00:00"),
        ("support:7002", "support:362", "support:9003", "csat", 1, "Took three days",
         "2024-04-05 10:00:00"),
        ("support:7005", "support:364", "support:9006", "csat", 5, None,
         "2024-05-04 11:00:00"),
    ]
    saved = state(ws)
    assert saved.object("organizations").cursor == {"start_time": MAY_4_0930, "seen": [365]}
    assert saved.object("tickets").cursor["after_cursor"]
    assert saved.object("satisfaction_ratings").cursor == {"start_time": MAY_4_11,
                                                           "seen": [7005]}
    assert saved.object("tickets").newest.startswith("2024-05-04T10:00:00")
    # one export request per object at Zendesk's largest page, metric sets side-loaded,
    # answered ratings only, and one show_many for the ratings' tickets
    assert fake.paths() == [
        f"{ORGS}?per_page=1000&start_time=0",
        f"{TICKETS}?include=metric_sets&per_page=1000&start_time=0",
        f"{RATINGS}?page%5Bsize%5D=100&score=received",
        f"{SHOW_MANY}?ids=35%2C37%2C38%2C40",
    ]


def test_small_pages_are_followed_to_the_end_of_each_export(workspace, fake):
    ws = configure(workspace, fake, page_size=2)
    result = sync_source(ws, "support")
    assert result.objects == {"organizations": 5, "tickets": 6, "satisfaction_ratings": 4}
    assert result.rows_loaded == 13
    # the time-based export restarts at the newest second of each page; a page holding
    # only that second's records, read already, moves on to the next second
    assert fake.paths(ORGS) == [
        f"{ORGS}?per_page=2&start_time=0",
        f"{ORGS}?per_page=2&start_time={MAY_1_8AM}",
        f"{ORGS}?per_page=2&start_time={MAY_1_8AM + 1}",
        f"{ORGS}?per_page=2&start_time=1714737600",
    ]
    tickets = fake.paths(TICKETS)
    assert len(tickets) == 3 and "per_page=2" in tickets[0]
    assert all("cursor=" in p and "include=metric_sets" in p for p in tickets[1:])
    ratings = fake.paths(RATINGS)
    assert len(ratings) == 2 and "page%5Bafter%5D=" in ratings[1]
    assert len(fake.paths(SHOW_MANY)) == 2
    assert len(rows(ws, "SELECT account_id FROM accounts")) == 5


def test_a_second_sync_asks_only_for_what_changed_and_picks_up_an_update(workspace, fake):
    ws = configure(workspace, fake)
    sync_source(ws, "support")
    after_cursor = state(ws).object("tickets").cursor["after_cursor"]
    fake.upsert("tickets", {"id": 36, "status": "solved", "updated_at": "2024-06-01T12:00:00Z"})
    fake.upsert("metric_sets", {"ticket_id": 36, "solved_at": "2024-06-01T11:58:00Z"})
    before = len(fake.requests)
    result = sync_source(ws, "support")
    assert result.records == 1 and result.objects == {"tickets": 1}
    assert fake.paths()[before:] == [
        f"{ORGS}?per_page=1000&start_time={MAY_4_0930}",
        f"{TICKETS}?cursor={after_cursor}&include=metric_sets",
        f"{RATINGS}?page%5Bsize%5D=100&score=received&start_time={MAY_4_11}",
    ]
    assert rows(ws, "SELECT status, CAST(solved_at AS VARCHAR) FROM tickets "
                    "WHERE ticket_id = 'support:36'") == [("solved", "2024-06-01 11:58:00")]
    assert state(ws).object("tickets").cursor["after_cursor"] != after_cursor


def test_records_repeated_at_a_page_boundary_are_not_read_twice(workspace, fake):
    ws = configure(workspace, fake, objects=["organizations"])
    sync_source(ws, "support")
    # Soylent, the last record read, changes again in a later second; Umbrella does not
    fake.upsert("organizations", {"id": 365, "name": "Soylent Corporation",
                                  "updated_at": "2024-06-02T00:00:00Z"})
    result = sync_source(ws, "support")
    assert result.objects == {"organizations": 1}
    assert rows(ws, "SELECT name FROM accounts WHERE account_id = 'support:365'") == [
        ("Soylent Corporation",)]


def test_a_persistent_500_fails_the_sync_and_the_rerun_resumes_from_the_stored_cursor(
        workspace, fake):
    ws = configure(workspace, fake, page_size=2)
    fake.fail(500, after=1, times=None)  # the first page arrives, then the server is down
    with pytest.raises(SyncFailed, match="InternalServerError"):
        sync_source(ws, "support")
    assert len(fake.requests) == 1 + 3  # the first page, then a request and its 2 retries
    assert rows(ws, "SELECT account_id FROM accounts ORDER BY 1") == [
        ("support:361",), ("support:362",)]
    saved = state(ws)
    assert saved.last_run.status == "failed"
    assert saved.object("organizations").cursor == {"start_time": MAY_1_8AM,
                                                    "seen": [361, 362]}
    fake.recover()
    before = len(fake.requests)
    result = sync_source(ws, "support")
    assert result.objects == {"organizations": 3, "tickets": 6, "satisfaction_ratings": 4}
    assert fake.paths()[before] == f"{ORGS}?per_page=2&start_time={MAY_1_8AM}"
    assert f"{ORGS}?per_page=2&start_time=0" not in fake.paths()[before:]
    assert len(rows(ws, "SELECT account_id FROM accounts")) == 5


def test_a_ticket_export_stopped_part_way_resumes_from_its_last_cursor(workspace, fake):
    ws = configure(workspace, fake, page_size=2, objects=["organizations", "tickets"])
    fake.fail(503, after=4 + 1, times=None)  # 4 organization pages, one ticket page
    with pytest.raises(SyncFailed):
        sync_source(ws, "support")
    stored = state(ws).object("tickets").cursor["after_cursor"]
    fake.recover()
    before = len(fake.requests)
    result = sync_source(ws, "support")
    assert result.objects == {"tickets": 4}
    assert fake.paths(TICKETS)[-2].endswith(f"cursor={stored}&include=metric_sets")
    assert "start_time=0" not in "".join(fake.paths()[before:])


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_are_retried(workspace, fake, status):
    ws = configure(workspace, fake)
    fake.fail(status, retry_after=0)
    result = sync_source(ws, "support")
    assert result.records == 15
    assert fake.paths(ORGS) == [f"{ORGS}?per_page=1000&start_time=0"] * 2


def test_a_429_waits_its_retry_after_once_in_our_retry_not_in_zenpy(workspace, fake,
                                                                    monkeypatch):
    ours, zenpys = [], []
    monkeypatch.setattr("quarterdeck.sources.retry.pause", ours.append)
    monkeypatch.setattr("zenpy.lib.api.sleep", zenpys.append)
    ws = configure(workspace, fake, objects=["organizations"])
    fake.fail(429, retry_after=7)
    sync_source(ws, "support")
    assert ours == [7.0] and zenpys == []
    assert len(fake.requests) == 2


def test_retries_stop_at_max_retries_with_no_hidden_transport_retries(workspace, fake):
    ws = configure(workspace, fake, max_retries=1, objects=["organizations"])
    fake.fail(503, times=2)  # urllib3 retrying underneath would get a third, good answer
    with pytest.raises(SyncFailed, match="ServiceUnavailable"):
        sync_source(ws, "support")
    assert len(fake.requests) == 2


def test_a_refusal_that_is_not_a_rate_limit_fails_at_once(workspace, fake):
    ws = configure(workspace, fake)
    fake.fail(403)
    with pytest.raises(SyncFailed, match="Forbidden"):
        sync_source(ws, "support")
    assert len(fake.requests) == 1


def test_no_secret_reaches_logs_errors_or_state(workspace, fake, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    ws = configure(workspace, fake, page_size=2)
    fake.fail(500, after=1, times=None)
    with pytest.raises(SyncFailed) as failed:
        sync_source(ws, "support")
    monkeypatch.setenv("QUARTERDECK_SUPPORT_API_TOKEN", "zdWrongSecretToken")
    fake.recover()
    with pytest.raises(SyncFailed, match="authenticate") as refused:
        sync_source(ws, "support")
    assert fake.requests[-1].headers["authorization"].startswith("Basic ")
    written = "".join(p.read_text(errors="replace") for p in ws.data_dir.rglob("*")
                      if p.is_file() and p.suffix in (".json", ".ndjson", ".csv", ".log"))
    for secret in (TOKEN, "zdWrongSecretToken"):
        assert secret not in caplog.text
        assert secret not in str(failed.value) and secret not in str(refused.value)
        assert secret not in (ws.data_dir / "sources" / "support" / "state.json").read_text()
        assert secret not in written
    assert "retry 1 of 2" in caplog.text


def test_an_oauth_token_is_sent_as_a_bearer_token(workspace, fake, monkeypatch):
    monkeypatch.delenv("QUARTERDECK_SUPPORT_API_TOKEN")
    monkeypatch.setenv("QUARTERDECK_SUPPORT_OAUTH_TOKEN", "oauth-abc123")
    fake.oauth_token = "oauth-abc123"
    ws = configure(workspace, fake, objects=["organizations"])
    assert sync_source(ws, "support").records == 5
    assert {r.headers["authorization"] for r in fake.requests} == {"Bearer oauth-abc123"}


def test_the_address_comes_from_the_subdomain_or_the_base_url(workspace, fake):
    ws = configure(workspace, fake, base_url=None, options={"subdomain": "acme"})
    connector = make_connector(ws, "support")
    assert connector.client().tickets.base_url == "acme.zendesk.com"
    ws = configure(workspace, fake, base_url="https://zd-proxy.corp.example:8443/")
    assert make_connector(ws, "support").client().tickets.base_url == (
        "zd-proxy.corp.example:8443")


@pytest.mark.parametrize("settings, message", [
    ({"base_url": None, "options": {}}, "subdomain is required"),
    ({"base_url": "http://127.0.0.1:1"}, "https://"),
    ({"base_url": "https://localhost:8443"}, "has a dot"),
    ({"base_url": "https://proxy.corp.example/zendesk"}, "cannot carry a path"),
    ({"options": {"segment_field": "Tier Name"}}, "options: segment_field: .*field key"),
])
def test_bad_options_and_addresses_are_refused(workspace, fake, settings, message):
    ws = configure(workspace, fake, **settings)
    with pytest.raises(QuarterdeckError, match=message):
        make_connector(ws, "support")


def test_missing_credentials_name_the_variables_to_set(workspace, fake, monkeypatch):
    monkeypatch.delenv("QUARTERDECK_SUPPORT_API_TOKEN")
    ws = configure(workspace, fake)
    with pytest.raises(MissingCredential, match="QUARTERDECK_SUPPORT_EMAIL and "
                                                "QUARTERDECK_SUPPORT_API_TOKEN, or "
                                                "QUARTERDECK_SUPPORT_OAUTH_TOKEN"):
        sync_source(ws, "support")


def test_quarterdeck_sync_runs_the_zendesk_source(workspace, fake):
    from quarterdeck.cli.main import app

    configure(workspace, fake)
    result = CliRunner().invoke(app, ["sync", "support", "--workspace", str(workspace.root)],
                                catch_exceptions=False, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "support: 15 records read, 13 rows loaded" in result.output
