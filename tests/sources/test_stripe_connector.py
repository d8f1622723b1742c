"""The Stripe connector against a local Stripe API: full listing, then events, retries, resume."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import pytest

from quarterdeck.sources import stripe_connector
from quarterdeck.sources.sync import SyncFailed, sync_source
from quarterdeck.sources.sync_state import SyncState
from quarterdeck.testing.fake_stripe import FakeStripe
from quarterdeck.warehouse.connection import connect
from quarterdeck.workspace.workspace import Workspace, open_workspace

FIXTURES = Path(__file__).parent / "fixtures" / "stripe"
KEY = "sk_test_fake-secret-value-4242"
NOW = 1_734_652_800  # 2024-12-20, a few days after the fixtures' newest event
DAY = 86_400
CUSTOMER_EVENTS = list(stripe_connector.FEEDS["customers"].event_types)


@pytest.fixture
def fake():
    with FakeStripe.from_folder(FIXTURES, api_key=KEY) as server:
        yield server


@pytest.fixture
def clock(monkeypatch):
    """The connector's clock, set to NOW; tests move it."""
    time = {"now": NOW}
    monkeypatch.setattr(stripe_connector, "now", lambda: time["now"])
    return time


@pytest.fixture
def ws(workspace: Workspace, fake: FakeStripe, clock, monkeypatch) -> Workspace:
    return configure(workspace, fake, monkeypatch)


def configure(workspace: Workspace, fake: FakeStripe, monkeypatch, page_size: int = 100,
              key: str = KEY) -> Workspace:
    (workspace.definitions_dir / "sources.yml").write_text(f"""
sources:
  stripe:
    kind: stripe
    base_url: {fake.url}
    page_size: {page_size}
    max_retries: 2
    retry_base_seconds: 0.001
    options:
      external_id_metadata: {{hubspot: hubspot_company_id}}
""")
    monkeypatch.setenv("QUARTERDECK_STRIPE_API_KEY", key)
    return open_workspace(workspace.root)


def query(ws: Workspace, sql: str) -> list[tuple]:
    con = connect(ws.warehouse_url)
    try:
        return con.raw_sql(sql).fetchall()
    finally:
        con.disconnect()


def state(ws: Workspace) -> SyncState:
    return SyncState.load(ws.data_dir / "sources" / "stripe")


def lists(fake: FakeStripe, path: str, since: int = 0) -> list[dict]:
    return [r.params for r in fake.requests[since:] if r.path == path]


def test_a_first_sync_lists_every_object_into_the_warehouse(ws, fake):
    result = sync_source(ws, "stripe")
    assert result.rows_rejected == 0
    assert result.objects == {"customers": 5, "subscriptions": 6, "invoices": 5}
    # every request authenticated and pinned to the API version the mapping is written for
    assert {(r.authorized, r.version) for r in fake.requests} == {
        (True, stripe_connector.API_VERSION)}
    assert query(ws, "SELECT account_id, name, domain, country, external_ids FROM accounts "
                     "WHERE account_id = 'stripe:cus_N1acme'") == [
        ("stripe:cus_N1acme", "Acme Analytics", "acme-analytics.com", "US",
         '{"hubspot":"5123"}')]
    assert query(ws, "SELECT subscription_id, plan, quantity::VARCHAR, unit_price::VARCHAR, "
                     "discount::VARCHAR, start_date::VARCHAR, end_date::VARCHAR, trial "
                     "FROM subscriptions WHERE contract_id = 'stripe:sub_1A1acme' "
                     "ORDER BY 1") == [
        ("stripe:si_A1pro", "Pro", "10.000000", "50.000000", "0.200000", "2024-01-15", None,
         False),
        ("stripe:si_A1pro:trial", "Pro", "10.000000", "50.000000", "0.200000", "2024-01-01",
         "2024-01-15", True),
        ("stripe:si_A1sso", "sso_addon", "1.000000", "19.995000", "0.280000", "2024-06-10",
         None, False)]
    assert query(ws, "SELECT count(*) FROM subscriptions") == [(8,)]
    assert query(ws, "SELECT invoice_id, amount::VARCHAR, currency, status FROM invoices "
                     "WHERE account_id = 'stripe:cus_N2globex'") == [
        ("stripe:in_1Gb2globex", "5400.000000", "EUR", "open")]
    # every status of subscription, with the discounts' coupons
    (params,) = lists(fake, "/v1/subscriptions")
    assert params["status"] == "all"
    assert params["expand"] == ["data.discounts", "data.items.data.discounts"]
    cursor = state(ws).object("invoices").cursor
    assert cursor["phase"] == "events" and cursor["event"] == "evt_1Q0007fixture"
    assert state(ws).object("invoices").newest.startswith("2024-12-15")


def test_a_listing_pages_with_starting_after_and_limit(workspace, fake, clock, monkeypatch):
    ws = configure(workspace, fake, monkeypatch, page_size=2)
    sync_source(ws, "stripe", objects=["customers"])
    pages = lists(fake, "/v1/customers")
    assert [p.get("starting_after") for p in pages] == [None, "cus_N4umbrella",
                                                        "cus_N2globex"]
    assert {p["limit"] for p in pages} == {"2"}
    assert len(query(ws, "SELECT * FROM accounts")) == 5
    # before listing, the newest customer event was noted: events take over from there
    (anchor,) = [p for p in lists(fake, "/v1/events") if p["limit"] == "1"]
    assert anchor["types"] == CUSTOMER_EVENTS
    assert state(ws).object("customers").cursor["event"] == "evt_1Q0002fixture"


def test_a_second_sync_reads_only_events_and_applies_the_changes(ws, fake):
    sync_source(ws, "stripe")
    acme = fake.get("cus_N1acme") | {"name": "Acme Analytics Inc."}
    fake.change(acme, "customer.updated", created=NOW - 600,
                previous_attributes={"name": "Acme Analytics"})
    before = fake.get("sub_1A1acme")
    sub = copy.deepcopy(before)
    sub["items"]["data"] = sub["items"]["data"][:1]  # the SSO add-on is taken off
    sub["items"]["data"][0]["quantity"] = 12
    fake.change(sub, "customer.subscription.updated", created=NOW - 500,
                previous_attributes={"items": before["items"]})
    invoice = fake.get("in_1Gb2globex")
    invoice.update(status="paid", amount_paid=540000, amount_remaining=0)
    invoice["status_transitions"]["paid_at"] = NOW - 400
    fake.change(invoice, "invoice.paid", created=NOW - 400)
    fake.change(fake.get("in_1Ge5hooli"), "invoice.deleted", created=NOW - 300)
    since = len(fake.requests)

    result = sync_source(ws, "stripe")

    asked = fake.requests[since:]
    assert {r.path for r in asked} == {"/v1/events", "/v1/subscriptions/sub_1A1acme"}
    assert [r.param("ending_before") for r in asked if r.path == "/v1/events"] == [
        "evt_1Q0002fixture", "evt_1Q0006fixture", "evt_1Q0007fixture"]
    # the event names the subscription's discounts by id: it is read again, expanded
    (retrieve,) = [r for r in asked if r.path.startswith("/v1/subscriptions/")]
    assert retrieve.param("expand") == ["discounts", "items.data.discounts"]
    assert result.objects == {"customers": 1, "subscriptions": 1, "invoices": 2}
    assert query(ws, "SELECT name FROM accounts WHERE account_id = 'stripe:cus_N1acme'") == [
        ("Acme Analytics Inc.",)]
    assert query(ws, "SELECT subscription_id, quantity::INT, end_date::VARCHAR FROM "
                     "subscriptions WHERE contract_id = 'stripe:sub_1A1acme' ORDER BY 1") == [
        ("stripe:si_A1pro", 12, None), ("stripe:si_A1pro:trial", 12, "2024-01-15"),
        ("stripe:si_A1sso", 1, "2024-12-19")]
    assert query(ws, "SELECT invoice_id, status, paid_at::VARCHAR FROM invoices WHERE "
                     "invoice_id IN ('stripe:in_1Gb2globex', 'stripe:in_1Ge5hooli') "
                     "ORDER BY 1") == [
        ("stripe:in_1Gb2globex", "paid", "2024-12-19 23:53:20"),
        ("stripe:in_1Ge5hooli", "deleted", None)]
    # nothing happened since: a third sync asks once per object and loads nothing
    since = len(fake.requests)
    assert sync_source(ws, "stripe").records == 0
    assert len(fake.requests) - since == 3


def test_events_apply_in_the_order_they_happened_so_the_newest_state_wins(
        workspace, fake, clock, monkeypatch):
    ws = configure(workspace, fake, monkeypatch, page_size=2)
    sync_source(ws, "stripe", objects=["customers"])
    hooli = fake.get("cus_N5hooli")
    for n, name in enumerate(["Hooli 1", "Hooli 2", "Hooli 3", "Hooli XYZ", "Hooli Inc."]):
        fake.change(hooli | {"name": name}, "customer.updated", created=NOW - 100 + n)
    since = len(fake.requests)
    result = sync_source(ws, "stripe", objects=["customers"])
    assert result.records == 5
    events = lists(fake, "/v1/events", since)
    assert len(events) == 3  # 2 + 2 + 1, each request right after the last event applied
    assert all(e.get("ending_before") for e in events)
    assert query(ws, "SELECT name FROM accounts WHERE account_id = 'stripe:cus_N5hooli'") == [
        ("Hooli Inc.",)]
    cursor = state(ws).object("customers").cursor
    assert cursor["created"] == NOW - 96 and cursor["seen_until"] == NOW


def test_a_rate_limited_request_is_retried_after_what_stripe_asks(ws, fake, caplog):
    fake.fail("/v1/customers", 429, times=1, retry_after=1)
    with caplog.at_level(logging.WARNING, logger="quarterdeck.sources.retry"):
        result = sync_source(ws, "stripe", objects=["customers"])
    assert result.records == 5
    assert len(lists(fake, "/v1/customers")) == 2
    assert "stripe customers list: HTTP 429, retry 1 of 2 in 1.0 s" in caplog.text


def test_a_failing_sync_keeps_its_pages_and_the_next_one_resumes_after_them(
        workspace, fake, clock, monkeypatch):
    ws = configure(workspace, fake, monkeypatch, page_size=2)
    fake.fail("/v1/customers", 500, times=None, after=1)  # the second page never answers
    with pytest.raises(SyncFailed, match="stripe customers"):
        sync_source(ws, "stripe")
    assert len(lists(fake, "/v1/customers")) == 1 + 3  # a page, then 3 tries of the next
    assert query(ws, "SELECT account_id FROM accounts ORDER BY 1") == [
        ("stripe:cus_N4umbrella",), ("stripe:cus_N5hooli",)]
    assert state(ws).object("customers").cursor["starting_after"] == "cus_N4umbrella"
    assert state(ws).last_run.status == "failed"

    fake.failures.clear()
    since = len(fake.requests)
    sync_source(ws, "stripe")
    again = lists(fake, "/v1/customers", since)
    assert [p.get("starting_after") for p in again] == ["cus_N4umbrella", "cus_N2globex"]
    # the event noted before the listing started still stands: not asked again
    assert not [p for p in lists(fake, "/v1/events", since)
                if p["limit"] == "1" and p["types"] == CUSTOMER_EVENTS]
    assert len(query(ws, "SELECT * FROM accounts")) == 5
    assert state(ws).last_run.status == "ok"


def test_a_listing_resumes_by_time_when_its_last_record_was_deleted(
        workspace, fake, clock, monkeypatch):
    ws = configure(workspace, fake, monkeypatch, page_size=2)
    fake.fail("/v1/customers", 500, times=None, after=1)
    with pytest.raises(SyncFailed):
        sync_source(ws, "stripe", objects=["customers"])
    fake.failures.clear()
    fake.remove("cus_N4umbrella")  # the listing's last record
    since = len(fake.requests)
    sync_source(ws, "stripe", objects=["customers"])
    again = lists(fake, "/v1/customers", since)
    assert again[0]["starting_after"] == "cus_N4umbrella"  # answered: no such customer
    assert again[1]["created"] == {"lte": str(1731632400)}  # cus_N4umbrella's creation
    assert len(query(ws, "SELECT * FROM accounts")) == 5


def test_a_cursor_older_than_stripes_event_retention_lists_everything_again(
        ws, fake, clock, caplog):
    sync_source(ws, "stripe", objects=["customers"])
    clock["now"] = NOW + 40 * DAY
    since = len(fake.requests)
    with caplog.at_level(logging.WARNING):
        result = sync_source(ws, "stripe", objects=["customers"])
    assert result.records == 5
    assert [p.get("starting_after") for p in lists(fake, "/v1/customers", since)] == [None]
    assert "listing everything again" in caplog.text


def test_an_event_too_old_to_page_from_is_found_again_by_time(ws, fake, clock):
    sync_source(ws, "stripe", objects=["customers"])
    clock["now"] = NOW + 16 * DAY  # the noted event is 35 days old, the last read 16
    hooli = fake.get("cus_N5hooli") | {"name": "Hooli XYZ"}
    fake.change(hooli, "customer.updated", created=NOW + 15 * DAY)
    since = len(fake.requests)
    sync_source(ws, "stripe", objects=["customers"])
    (events,) = lists(fake, "/v1/events", since)
    assert events["created"] == {"gt": str(1733011260)} and "ending_before" not in events
    assert query(ws, "SELECT name FROM accounts WHERE account_id = 'stripe:cus_N5hooli'") == [
        ("Hooli XYZ",)]


def test_no_secret_reaches_logs_errors_or_the_sync_state(workspace, fake, clock, monkeypatch,
                                                         caplog):
    caplog.set_level(logging.DEBUG)
    ws = configure(workspace, fake, monkeypatch)
    fake.fail("/v1/invoices", 500, times=None)
    with pytest.raises(SyncFailed) as failed:
        sync_source(ws, "stripe")
    wrong = "sk_test_fake-wrong-value-9999"
    ws = configure(workspace, fake, monkeypatch, key=wrong)
    with pytest.raises(SyncFailed) as refused:
        sync_source(ws, "stripe")
    assert "Invalid API Key" in str(refused.value)
    state_text = (ws.data_dir / "sources" / "stripe" / "state.json").read_text()
    for secret in (KEY, wrong, KEY[-17:], wrong[-17:-4]):
        assert secret not in caplog.text
        assert secret not in str(failed.value) and secret not in str(refused.value)
        assert secret not in state_text


def test_an_event_stripe_no_longer_has_is_found_again_by_time(ws, fake):
    sync_source(ws, "stripe", objects=["customers"])
    fake.remove("evt_1Q0002fixture")  # the customers' noted event
    fake.change(fake.get("cus_N4umbrella") | {"name": "Umbrella Corp"}, "customer.updated",
                created=NOW - 60)
    since = len(fake.requests)
    sync_source(ws, "stripe", objects=["customers"])
    first, second = lists(fake, "/v1/events", since)
    assert first["ending_before"] == "evt_1Q0002fixture"  # answered: no such event
    assert second["created"] == {"gt": str(1733011260)}
    assert query(ws, "SELECT name FROM accounts WHERE account_id = 'stripe:cus_N4umbrella'"
                 ) == [("Umbrella Corp",)]


def test_quarterdeck_sync_syncs_the_stripe_source(ws, fake):
    from typer.testing import CliRunner

    from quarterdeck.cli.main import app

    result = CliRunner().invoke(app, ["sync", "stripe", "--workspace", str(ws.root)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "16 records read" in result.output
    assert query(ws, "SELECT count(*) FROM invoices") == [(5,)]


def test_the_stripe_doc_example_is_a_valid_source():
    import re

    import yaml

    from quarterdeck.sources.config import SourcesConfig

    text = (Path(__file__).parents[2] / "docs" / "sources-stripe.md").read_text()
    (block,) = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    source = SourcesConfig.model_validate(yaml.safe_load(block)).sources["billing"]
    assert stripe_connector.external_id_option(source.options) == {"crm": "hubspot_company_id"}
    for option in source.options:
        assert f"`{option}`" in text
