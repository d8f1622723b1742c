"""One company in every system, one customer in Quarterdeck: vendor fakes synced through the
CLI, identity resolution across them, and the pipeline's snapshot showing one account with
the billing system's ARR, the CRM's owner and the help desk's tickets.

Acme is "Acme Inc" in Stripe, "ACME, Inc." in Salesforce (which holds its Stripe id),
"acme.io" in HubSpot (which holds it too) and "Acme Inc." in Zendesk (matched by its
domain); Globex is in Stripe and Salesforce with names spelled differently and one domain.
Nothing links Initech's Zendesk organization to another system, so it stays a customer of
its own.
"""

from __future__ import annotations

import copy
import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from quarterdeck.cli.main import app
from quarterdeck.testing.fake_hubspot import FakeHubSpot
from quarterdeck.testing.fake_salesforce import FakeSalesforce
from quarterdeck.testing.fake_stripe import FakeStripe
from quarterdeck.testing.fake_zendesk import FakeZendesk

FIXTURES = Path(__file__).parent / "fixtures"
STRIPE_KEY = "sk_test_one-customer-4242"
SF_TOKEN = "00DHs0000001Fake!OneCustomerSession"
ZD_EMAIL, ZD_TOKEN = "ops@one.example", "zdOneCustomerToken"
HS_TOKEN = "pat-na1-one-customer-token"
TODAY = datetime.now(UTC).date()
SIGNED = datetime.combine(TODAY - timedelta(days=90), datetime.min.time(), UTC)
runner = CliRunner()


def qd(*args: object) -> str:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False,
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def _stripe_template(name: str) -> dict:
    return json.loads((FIXTURES / "stripe" / f"{name}.json").read_text())["data"]


def stripe_world() -> dict[str, list[dict]]:
    """Two customers, each with an active monthly subscription signed 90 days ago."""
    customer = next(c for c in _stripe_template("customers") if c["id"] == "cus_N1acme")
    subscription = next(s for s in _stripe_template("subscriptions")
                        if s["id"] == "sub_1A1acme")
    created = int(SIGNED.timestamp())
    customers, subscriptions = [], []
    for key, name, email, cents in (("acme", "Acme Inc", "billing@acme.io", 100_000),
                                    ("globex", "Globex", "ap@globex.com", 50_000)):
        c = copy.deepcopy(customer)
        c.update(id=f"cus_{key}", name=name, email=email, created=created, metadata={})
        customers.append(c)
        s = copy.deepcopy(subscription)
        s.update(id=f"sub_{key}", customer=c["id"], created=created, start_date=created,
                 billing_cycle_anchor=created, status="active", discounts=[],
                 canceled_at=None, ended_at=None, cancel_at=None, trial_start=None,
                 trial_end=None)
        item = s["items"]["data"][0]
        item.update(id=f"si_{key}", subscription=s["id"], created=created, quantity=1,
                    current_period_start=created, discounts=[],
                    current_period_end=created + 30 * 86_400)
        item["price"].update(unit_amount=cents, unit_amount_decimal=str(cents),
                             recurring={**item["price"]["recurring"], "interval": "month",
                                        "interval_count": 1})
        s["items"]["data"] = [item]
        subscriptions.append(s)
    return {"customers": customers, "subscriptions": subscriptions}


def salesforce_world() -> dict[str, list[dict]]:
    """Acme (holding its Stripe id) and Globex (same domain as Stripe's email)."""
    template = json.loads((FIXTURES / "salesforce" / "Account.json").read_text())["records"][0]
    stamp = SIGNED.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    accounts = []
    for sf_id, name, website, stripe_id in (
            ("001Hs00001OneAcAAA", "ACME, Inc.", "https://www.acme.io/", "cus_acme"),
            ("001Hs00001OneGlAAA", "Globex Corporation", "globex.com", None)):
        a = copy.deepcopy(template)
        a.update(Id=sf_id, Name=name, Website=website, Stripe_Customer_Id__c=stripe_id,
                 ParentId=None, CreatedDate=stamp, LastModifiedDate=stamp, SystemModstamp=stamp)
        a["attributes"]["url"] = a["attributes"]["url"].rsplit("/", 1)[0] + f"/{sf_id}"
        a["Owner"]["Email"] = "dana@example.com"
        accounts.append(a)
    return {"Account": accounts}


def hubspot_world() -> dict[str, list[dict]]:
    """Marketing's CRM knows Acme only by its bare domain as a name, and holds its Stripe id
    in a company property."""
    template = json.loads((FIXTURES / "hubspot" / "companies.json").read_text())["results"][0]
    company = copy.deepcopy(template)
    stamp = SIGNED.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    company.update(id="7701", createdAt=stamp, updatedAt=stamp)
    company["properties"].update(
        hs_object_id="7701", name="acme.io", domain="acme.io", website="https://acme.io",
        stripe_customer_id="cus_acme", hubspot_owner_id=None, createdate=stamp,
        hs_lastmodifieddate=stamp)
    return {"companies": [company]}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def zendesk_world() -> dict[str, list[dict]]:
    """Acme (by its domain, named yet another way) with one open and one solved ticket, and
    Initech, which no other system knows, with one open ticket."""
    fixtures = FIXTURES / "zendesk"
    org = json.loads((fixtures / "organizations.json").read_text())["organizations"][0]
    tickets = json.loads((fixtures / "tickets.json").read_text())
    ticket, metric = tickets["tickets"][0], tickets["metric_sets"][0]
    orgs = []
    for org_id, name, domains in ((501, "Acme Inc.", ["acme.io"]),
                                  (502, "Initech", ["initech.example"])):
        o = copy.deepcopy(org)
        o.update(id=org_id, name=name, domain_names=domains, external_id=None,
                 created_at=_iso(SIGNED), updated_at=_iso(SIGNED), organization_fields={})
        orgs.append(o)
    recent = datetime.combine(TODAY - timedelta(days=3), datetime.min.time(), UTC)
    rows, metrics = [], []
    for ticket_id, org_id, status in ((9001, 501, "open"), (9002, 501, "solved"),
                                      (9003, 502, "open")):
        t = copy.deepcopy(ticket)
        t.update(id=ticket_id, organization_id=org_id, status=status, priority="normal",
                 created_at=_iso(recent), updated_at=_iso(recent), satisfaction_rating=None,
                 generated_timestamp=int(recent.timestamp()))
        rows.append(t)
        m = copy.deepcopy(metric)
        m.update(id=80_000 + ticket_id, ticket_id=ticket_id,
                 solved_at=_iso(recent + timedelta(hours=4)) if status == "solved" else None)
        metrics.append(m)
    return {"organizations": orgs, "tickets": rows, "metric_sets": metrics}


@pytest.fixture
def systems(monkeypatch):
    with FakeStripe(**stripe_world(), api_key=STRIPE_KEY) as stripe, \
            FakeSalesforce(salesforce_world(), token=SF_TOKEN) as salesforce, \
            FakeZendesk(zendesk_world(), email=ZD_EMAIL, api_token=ZD_TOKEN) as zendesk, \
            FakeHubSpot(hubspot_world(), token=HS_TOKEN) as hubspot:
        # both speak HTTPS only: trust both fakes' authorities
        bundle = Path(salesforce.ca_file).parent / "both-ca.pem"
        bundle.write_text(Path(salesforce.ca_file).read_text()
                          + Path(zendesk.ca_file).read_text())
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
        monkeypatch.setenv("QUARTERDECK_SUPPORT_EMAIL", ZD_EMAIL)
        monkeypatch.setenv("QUARTERDECK_SUPPORT_API_TOKEN", ZD_TOKEN)
        monkeypatch.setenv("QUARTERDECK_MARKETING_ACCESS_TOKEN", HS_TOKEN)
        monkeypatch.setenv("QUARTERDECK_BILLING_API_KEY", STRIPE_KEY)
        monkeypatch.setenv("QUARTERDECK_CRM_ACCESS_TOKEN", SF_TOKEN)
        yield {"billing": stripe, "crm": salesforce, "support": zendesk,
               "marketing": hubspot}


def configure(root: Path, systems: dict) -> None:
    sources = {
        "billing": {"kind": "stripe", "base_url": systems["billing"].url,
                    "objects": ["customers", "subscriptions"]},
        "crm": {"kind": "salesforce", "base_url": systems["crm"].url, "objects": ["Account"],
                "options": {"external_id_fields": {"billing": "Stripe_Customer_Id__c"}}},
        "support": {"kind": "zendesk", "base_url": systems["support"].url,
                    "objects": ["organizations", "tickets"]},
        "marketing": {"kind": "hubspot", "base_url": systems["marketing"].url,
                      "objects": ["companies"],
                      "options": {"external_id_properties": {"billing": "stripe_customer_id"}}},
    }
    for source in sources.values():
        source.update(max_retries=1, retry_base_seconds=0.001)
    (root / "definitions" / "sources.yml").write_text(yaml.safe_dump({"sources": sources}))
    # The CRM is the truth for names and owners; billing for the rest.
    (root / "definitions" / "identity.yml").write_text(yaml.safe_dump({
        "source_priority": ["crm", "billing"]}))


def export(root: Path, table: str, *args: object) -> list[dict[str, str]]:
    """Rows of `quarterdeck export TABLE` (written to a file: CSV to stdout bypasses the
    runner's capture)."""
    out = root / "exports" / f"{table}.csv"
    qd("export", table, "--out", out, *args, "--workspace", root)
    with out.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_system_syncs_into_one_customer_per_company(tmp_path: Path, systems: dict):
    root = tmp_path / "ws"
    qd("init", root, "--name", "One Co")
    configure(root, systems)
    output = qd("sync", "--workspace", root)
    assert all(name in output for name in ("billing", "crm", "support", "marketing"))
    listed = qd("source", "list", "--workspace", root)
    for name in ("billing", "crm", "support", "marketing"):
        line = next(li for li in listed.splitlines() if f" {name} " in li)
        assert "fresh" in line and "ok" in line, line

    resolution = export(root, "account_resolution")
    customer_of = {r["account_id"]: r["customer_id"] for r in resolution}
    acme = {customer_of["billing:cus_acme"], customer_of["crm:001Hs00001OneAcAAA"],
            customer_of["support:501"], customer_of["marketing:7701"]}
    globex = {customer_of["billing:cus_globex"], customer_of["crm:001Hs00001OneGlAAA"]}
    assert len(acme) == 1 and len(globex) == 1 and acme != globex
    assert customer_of["support:502"] not in acme | globex

    as_of = TODAY.isoformat()
    qd("run", "--as-of", as_of, "--workspace", root)
    snapshot = export(root, "account_snapshot", "--as-of", as_of)
    assert len(snapshot) == 3  # Acme, Globex, and Initech known only to the help desk
    by_customer = {r["account_id"]: r for r in snapshot}
    acme_row = by_customer[next(iter(acme))]
    assert acme_row["name"] == "ACME, Inc."           # the CRM's name survives
    assert acme_row["owner_email"] == "dana@example.com"
    assert float(acme_row["arr"]) == 12_000.0         # Stripe's $1,000 a month
    assert acme_row["status"] == "active"
    assert (acme_row["open_tickets"], acme_row["tickets_30d"]) == ("1", "2")  # Zendesk's
    initech = by_customer[customer_of["support:502"]]
    assert (initech["status"], initech["open_tickets"]) == ("prospect", "1")
    assert float(by_customer[next(iter(globex))]["arr"]) == 6_000.0

    headline = qd("metrics", "--as-of", as_of, "--workspace", root)
    assert "18,000" in headline  # two customers, not four


def test_the_quality_report_judges_each_source_on_its_own(tmp_path: Path, systems: dict):
    root = tmp_path / "ws"
    qd("init", root)
    configure(root, systems)
    qd("sync", "--workspace", root)
    rows = export(root, "data_quality", "--as-of", TODAY.isoformat())
    by = {(r["source"], r["entity"], r["rule"]): r for r in rows}
    # Acme in the CRM and in billing is one company seen twice, not a duplicate entry.
    for source in ("billing", "crm"):
        for rule in ("merged", "one_account_per_domain"):
            assert (by[source, "accounts", rule]["failed"], by[source, "accounts", rule]
                    ["status"]) == ("0", "ok"), (source, rule)
    # Billing holds no owner; the CRM does: completeness is judged per source.
    assert by["billing", "accounts", "account_has_owner"]["status"] == "warning"
    # The help desk's newest ticket is three days old (at the start of the as-of day)
    # against a daily cadence: stale.
    stale = by["support", "tickets", "expected_every"]
    assert (stale["check"], stale["status"]) == ("freshness", "error")
    assert stale["detail"].startswith("tickets from support are 3 days")
    # Subscriptions name accounts by billing's ids, which resolve: no orphans.
    assert by["billing", "subscriptions", "unknown_account"]["failed"] == "0"


def test_todays_run_warns_of_a_failed_sync_and_a_source_never_synced(tmp_path: Path,
                                                                      systems: dict):
    root = tmp_path / "ws"
    qd("init", root)
    configure(root, systems)
    for name in ("billing", "crm", "support"):
        qd("sync", name, "--workspace", root)
    systems["billing"].fail("/v1/", 500, times=None)
    failed = runner.invoke(app, ["sync", "billing", "--workspace", str(root)],
                           env={"COLUMNS": "200"})
    assert failed.exit_code != 0
    # The day the syncs ran (the suite may have started the day before, near midnight).
    today = datetime.now(UTC).date()
    output = qd("run", "--as-of", today.isoformat(), "--workspace", root)
    assert "warning: the last sync of source billing failed" in output
    assert "warning: source marketing was never synced (quarterdeck sync marketing)" in output
    assert "source crm" not in output  # synced a moment ago: fresh
    # A past day's run judges that day's data, not today's syncs.
    past = qd("run", "--as-of", (today - timedelta(days=1)).isoformat(), "--workspace", root)
    assert "last sync" not in past and "never synced" not in past
