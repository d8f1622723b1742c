"""Benchmark of connector syncs: Salesforce and Stripe, a full sync, then an incremental one.

    .venv/bin/python benchmarks/sync.py              # scale S: 35,000 Salesforce + 14,500 Stripe
    .venv/bin/python benchmarks/sync.py --scale M    # 10x: 350,000 + 145,000 records
    .venv/bin/python benchmarks/sync.py --scale L    # 50x: 1.75M + 725,000 records

The local fakes of the two APIs (`quarterdeck.testing.fake_salesforce`, `fake_stripe`) run in
this process, filled with generated records shaped like the connector tests' fixtures
(tests/sources/fixtures: every record is a copy of a fixture record with its fields set).
A fresh workspace gets two sources, `crm` (Salesforce, over HTTPS with the fake's own CA) and
`billing` (Stripe), and each `quarterdeck sync <source>` runs as its own process:

1. a full sync of each source; then the warehouse is counted: every generated record must be
   there (by id), child accounts linked to their parents, nothing set aside;
2. 1% of each object is changed in the fakes (Salesforce: a new SystemModstamp; Stripe: the
   event announcing the change), and each source is synced again. The fakes' request logs
   must show that only the changes were read (Salesforce queries from the cursor, Stripe
   events only, no listing), and the warehouse must hold the new values.

Printed per phase: wall time, records read per second, rows loaded, the sync's peak RSS
(sampled every 50 ms) and CPU seconds, and the fake's requests and CPU seconds (the fake
shares the machine with the sync); after the incremental syncs, the fakes' logs by request.
The run fails unless every check holds and the peak RSS of every sync stays under
`rss_bound_mb` (see docs/benchmarks-sync.md).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import random
import re
import resource
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
import yaml
from machine_load import with_load
from run import BIN, measure

from quarterdeck.demo import names
from quarterdeck.testing.fake_salesforce import FakeSalesforce
from quarterdeck.testing.fake_stripe import FakeStripe
from quarterdeck.warehouse.connection import connect
from quarterdeck.workspace.workspace import open_workspace

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "sources" / "fixtures"
SF_TOKEN = "00DBench0000001!SyncBenchmarkAccessToken"
STRIPE_KEY = "sk_test_sync-benchmark-4242"
CHANGED_SHARE = 0.01
DAY = 86_400


@dataclass(frozen=True)
class Scale:
    accounts: int
    contacts: int
    opportunities: int
    customers: int  # Stripe customers, each one of the first Salesforce accounts
    subscriptions: int
    invoices: int

    @property
    def salesforce(self) -> int:
        return self.accounts + self.contacts + self.opportunities

    @property
    def stripe(self) -> int:
        return self.customers + self.subscriptions + self.invoices

    def times(self, k: int) -> Scale:
        return Scale(*(k * v for v in vars(self).values()))


BASE = Scale(5_000, 20_000, 10_000, 2_000, 2_500, 10_000)
SCALES = {"S": BASE, "M": BASE.times(10), "L": BASE.times(50)}


def rss_bound_mb(accounts: int) -> float:
    """The memory a sync may use: a fixed part (Python and its libraries, a flush of 50,000
    rows, DuckDB loading it) and identity resolution's part, which runs over every account
    in the workspace after each sync: 512 MB plus 8 MB per 1,000 accounts."""
    return 512 + 8 * accounts / 1000


# -- generated records ------------------------------------------------------------------------

COUNTRY_WEIGHTS = {"US": 45, "GB": 12, "DE": 10, "CA": 8, "FR": 7, "NL": 6, "AU": 6, "SG": 3,
                   "ES": 3}
COUNTRY_NAMES = {"US": "United States", "GB": "United Kingdom", "DE": "Germany",
                 "CA": "Canada", "FR": "France", "NL": "Netherlands", "AU": "Australia",
                 "SG": "Singapore", "ES": "Spain"}
CURRENCY = {"US": "usd", "CA": "cad", "GB": "gbp", "DE": "eur", "FR": "eur", "NL": "eur",
            "ES": "eur", "AU": "aud", "SG": "sgd"}
SEGMENTS = (("SMB", 55), ("Mid-Market", 30), ("Enterprise", 15))
REGIONS = {"US": "NA", "CA": "NA", "AU": "APAC", "SG": "APAC"}  # else EMEA
OPEN_STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote",
               "Negotiation/Review")
OPPORTUNITY_TYPES = ("Renewal", "Renewal", "Existing Customer - Upgrade", "New Customer")
PLANS = (("Starter", 1_500), ("Team", 4_000), ("Business", 9_000), ("Enterprise", 25_000))
ADD_ONS = (("sso_addon", 2_000), ("audit_log", 1_000), ("sandbox", 5_000))
TITLES = [title for titles in names.TITLES.values() for title in titles]
INVOICE_STATUSES = (("paid", 85), ("open", 9), ("void", 3), ("uncollectible", 2),
                    ("draft", 1))


def _fixture(vendor: str, name: str) -> list[dict]:
    body = json.loads((FIXTURES / vendor / f"{name}.json").read_text(encoding="utf-8"))
    return body["records" if vendor == "salesforce" else "data"]


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...] | dict[str, int]) -> str:
    pairs = list(weighted.items()) if isinstance(weighted, dict) else list(weighted)
    return rng.choices([p[0] for p in pairs], [p[1] for p in pairs])[0]


def _sf_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _stripe_id(prefix: str, n: int) -> str:
    """A Stripe-looking id (`cus_3Fv…`), unique per n: n times a prime, mod 62^14, in base 62."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    value, out = (n * 1_000_000_007 + 12_345) % 62 ** 14, []
    for _ in range(14):
        value, digit = divmod(value, 62)
        out.append(alphabet[digit])
    return f"{prefix}_{''.join(out)}"


@dataclass
class Company:
    base: str
    legal: str
    domain: str
    country: str

    @property
    def name(self) -> str:
        return f"{self.base} {self.legal}"


def _company(rng: random.Random) -> Company:
    country = _pick(rng, COUNTRY_WEIGHTS)
    shape = rng.random()
    if shape < 0.55:
        words = [rng.choice(names.COMPANY_PREFIXES), rng.choice(names.COMPANY_CORES)]
    elif shape < 0.85:
        words = [*rng.sample(names.COMPANY_PREFIXES, 2), rng.choice(names.COMPANY_CORES)]
    else:
        words = [rng.choice(names.LAST_NAMES), rng.choice(names.COMPANY_CORES)]
    base = " ".join(words)
    return Company(base, rng.choice(names.LEGAL_SUFFIX[country]),
                   f"{base.lower().replace(' ', '')}.{names.TLD[country]}", country)


@dataclass
class Generated:
    """What was generated, as much as the checks need."""

    salesforce: dict[str, list[dict]] = field(default_factory=dict)
    children: int = 0  # accounts with a ParentId
    customers: list[dict] = field(default_factory=list)
    subscriptions: list[dict] = field(default_factory=list)
    invoices: list[dict] = field(default_factory=list)
    sub_rows: dict[str, int] = field(default_factory=dict)  # subscription → contract rows


def _stamps(rng: random.Random, created: datetime, until: datetime,
            bulk: list[datetime]) -> str:
    """A SystemModstamp: mostly any time since creation, a tenth from a bulk update (a data
    load stamps thousands of records with one millisecond, so the cursor's tie-break on Id
    matters)."""
    if rng.random() < 0.1:
        candidates = [b for b in bulk if b > created]
        if candidates:
            return _sf_time(rng.choice(candidates))
    span = (until - created).total_seconds()
    return _sf_time(created + timedelta(seconds=rng.random() * span))


def generate_salesforce(scale: Scale, rng: random.Random, now: datetime,
                        out: Generated) -> list[Company]:
    """Accounts (5% children of another account, 0.5% deleted), their contacts and
    opportunities, as the REST API returns them; the first `customers` accounts hold their
    Stripe customer id."""
    account_t, contact_t, opp_t = (_fixture("salesforce", o)[0]
                                   for o in ("Account", "Contact", "Opportunity"))
    until, start = now - timedelta(hours=1), now - timedelta(days=3 * 365)
    bulk = [start + timedelta(days=rng.uniform(30, 3 * 365 - 2)) for _ in range(6)]
    owners = [(f"005Hs{n:010d}CSM", f"{rng.choice(names.FIRST_NAMES).lower()}.{n}@quarterdeck"
               ".example") for n in range(40)]
    companies, accounts, created_at = [], [], []
    for i in range(scale.accounts):
        company = _company(rng)
        created = start + timedelta(seconds=rng.random() * (until - start).total_seconds())
        record = copy.deepcopy(account_t)
        sf_id = f"001Hs{i:010d}AAA"
        parent = None
        if i > 20 and rng.random() < 0.05:
            j = rng.randrange(i)
            parent, created = accounts[j]["Id"], max(created, created_at[j])
            unit = rng.choice(names.CHILD_UNIT)
            company = Company(f"{companies[j].base} {unit}", company.legal,
                              f"{unit.lower()}.{companies[j].domain}", company.country)
            out.children += 1
        owner_id, owner_email = rng.choice(owners)
        website = rng.choice((f"https://www.{company.domain}/", company.domain,
                              f"http://{company.domain.title()}/about", None))
        stamp = _stamps(rng, created, until, bulk)
        record.update(
            attributes={**account_t["attributes"], "url": f"/services/data/v59.0/sobjects/"
                        f"Account/{sf_id}"},
            Id=sf_id, IsDeleted=rng.random() < 0.005, Name=company.name, Website=website,
            Industry=rng.choice(names.INDUSTRIES), ParentId=parent, OwnerId=owner_id,
            Owner={**account_t["Owner"], "Email": owner_email},
            Segment__c=_pick(rng, SEGMENTS), Region__c=REGIONS.get(company.country, "EMEA"),
            Stripe_Customer_Id__c=_stripe_id("cus", i) if i < scale.customers else None,
            BillingCountry=rng.choice((company.country, COUNTRY_NAMES[company.country])),
            Phone=f"+1 555 {rng.randrange(10_000_000):07d}", CreatedDate=_sf_time(created),
            LastModifiedDate=stamp, SystemModstamp=stamp)
        companies.append(company)
        accounts.append(record)
        created_at.append(created)
    contacts = []
    for i in range(scale.contacts):
        a = rng.randrange(scale.accounts)
        first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
        created = created_at[a] + timedelta(seconds=rng.random() *
                                            (until - created_at[a]).total_seconds())
        stamp = _stamps(rng, created, until, bulk)
        sf_id = f"003Hs{i:010d}AAA"
        contacts.append({
            **contact_t, "attributes": {**contact_t["attributes"], "url": "/services/data/"
                                        f"v59.0/sobjects/Contact/{sf_id}"},
            "Id": sf_id, "IsDeleted": rng.random() < 0.005, "AccountId": accounts[a]["Id"],
            "Email": f"{first}.{last}{i}@{companies[a].domain}".lower(),
            "Name": f"{first} {last}", "FirstName": first, "LastName": last,
            "Title": rng.choice(TITLES),
            "CreatedDate": _sf_time(created), "SystemModstamp": stamp})
    opportunities = []
    for i in range(scale.opportunities):
        a = rng.randrange(scale.accounts)
        kind = rng.choice(OPPORTUNITY_TYPES)
        created = created_at[a] + timedelta(seconds=rng.random() *
                                            (until - created_at[a]).total_seconds())
        close = created + timedelta(days=rng.randint(14, 180))
        stage = rng.choice((*OPEN_STAGES, "Closed Won", "Closed Won", "Closed Lost")) \
            if close < now else rng.choice(OPEN_STAGES)
        sf_id = f"006Hs{i:010d}AAA"
        opportunities.append({
            **opp_t, "attributes": {**opp_t["attributes"], "url": "/services/data/v59.0/"
                                    f"sobjects/Opportunity/{sf_id}"},
            "Id": sf_id, "IsDeleted": False, "AccountId": accounts[a]["Id"],
            "Name": f"{companies[a].base} - {kind} FY{close.year % 100}", "Type": kind,
            "Amount": None if rng.random() < 0.03 else float(rng.randrange(20, 2_000) * 600),
            "CurrencyIsoCode": CURRENCY[companies[a].country].upper(), "StageName": stage,
            "CloseDate": close.date().isoformat(), "IsClosed": stage.startswith("Closed"),
            "IsWon": stage == "Closed Won", "CreatedDate": _sf_time(created),
            "SystemModstamp": _stamps(rng, created, until, bulk)})
    out.salesforce = {"Account": accounts, "Contact": contacts, "Opportunity": opportunities}
    return companies


def _price(item: dict, plan: tuple[str, int], currency: str, interval: str) -> dict:
    name, monthly = plan
    cents = monthly * (10 if interval == "year" else 1)
    return {**item["price"], "id": f"price_{name}_{interval}_{currency}", "nickname": name,
            "product": f"prod_{name}", "currency": currency, "unit_amount": cents,
            "unit_amount_decimal": str(cents), "lookup_key": None,
            "recurring": {**item["price"]["recurring"], "interval": interval,
                          "interval_count": 1}}


def generate_stripe(scale: Scale, rng: random.Random, now: datetime, companies: list[Company],
                    out: Generated) -> None:
    """Customers (one per paying Salesforce account), subscriptions of one or two items
    (active, some after a trial, trialing, canceled, past due; a tenth with a coupon) and
    their invoices, as Stripe's list endpoints return them."""
    customer_t = _fixture("stripe", "customers")[0]
    subs = _fixture("stripe", "subscriptions")
    sub_t, item_t = subs[0], subs[0]["items"]["data"][0]
    discount_t = next(d for s in subs for d in s["discounts"])
    invoice_t = _fixture("stripe", "invoices")[0]
    until, start = int(now.timestamp()) - 3600, int(now.timestamp()) - 3 * 365 * DAY
    blank = json.dumps(customer_t)
    for i in range(scale.customers):
        company = companies[i]
        c = json.loads(blank)
        created = rng.randint(start, until - 3 * DAY)
        c.update(id=_stripe_id("cus", i), created=created, name=company.name,
                 email=f"billing@{company.domain}", description=None,
                 currency=CURRENCY[company.country], invoice_prefix=f"{i:08X}",
                 metadata={"salesforce_account_id": f"001Hs{i:010d}AAA"},
                 address={"city": None, "country": company.country, "line1": None,
                          "line2": None, "postal_code": None, "state": None})
        out.customers.append(c)
    for n in range(scale.subscriptions):
        customer = out.customers[n % scale.customers]
        currency = customer["currency"]
        created = rng.randint(customer["created"], until - 2 * DAY)
        status = _pick(rng, (("active", 80), ("trialing", 4), ("canceled", 11),
                             ("past_due", 5)))
        trial = status == "trialing" or (status == "active" and rng.random() < 0.2)
        if status == "trialing":
            created = rng.randint(max(customer["created"], until - 12 * DAY), until)
        sub_id = _stripe_id("sub", n)
        sub = copy.deepcopy(sub_t)
        interval = "year" if rng.random() < 0.3 else "month"
        items = []
        for k, plan in enumerate((rng.choice(PLANS), *([rng.choice(ADD_ONS)]
                                                        if rng.random() < 0.3 else []))):
            item = copy.deepcopy(item_t)
            item.update(id=_stripe_id("si", 2 * n + k), created=created, subscription=sub_id,
                        quantity=rng.randint(1, 200) if k == 0 else 1, discounts=[],
                        current_period_start=created, metadata={},
                        current_period_end=created + (365 if interval == "year" else 30) * DAY,
                        price=_price(item_t, plan, currency, interval))
            items.append(item)
        ended = rng.randint(created + DAY, until) if status == "canceled" else None
        discounts = []
        if rng.random() < 0.1:
            discount = copy.deepcopy(discount_t)
            discount.update(id=_stripe_id("di", n), customer=customer["id"],
                            subscription=sub_id, start=created)
            discount["coupon"].update(id="LOYALTY15", name="15% loyalty", percent_off=15.0,
                                      duration="forever")
            discounts.append(discount)
        sub.update(id=sub_id, customer=customer["id"], created=created, start_date=created,
                   billing_cycle_anchor=created, currency=currency, status=status,
                   canceled_at=ended, ended_at=ended, cancel_at=None, discounts=discounts,
                   cancel_at_period_end=False, metadata={},
                   trial_start=created if trial else None,
                   trial_end=created + 14 * DAY if trial else None,
                   items={**sub_t["items"], "data": items, "total_count": len(items),
                          "url": f"/v1/subscription_items?subscription={sub_id}"})
        out.subscriptions.append(sub)
        out.sub_rows[sub_id] = len(items) * (trial + (status != "trialing"))
    blank = json.dumps(invoice_t)
    for n in range(scale.invoices):
        sub = out.subscriptions[n % scale.subscriptions]
        inv = json.loads(blank)
        created = rng.randint(sub["created"], max(sub["created"], until - DAY))
        cents = sum(i["price"]["unit_amount"] * i["quantity"] for i in sub["items"]["data"])
        status = _pick(rng, INVOICE_STATUSES)
        finalized = None if status == "draft" else created + 3600
        paid = status == "paid"
        inv_id = _stripe_id("in", n)
        inv.update(id=inv_id, created=created, customer=sub["customer"],
                   currency=sub["currency"], subtotal=cents, total=cents,
                   total_excluding_tax=cents, amount_due=cents,
                   amount_paid=cents if paid else 0, amount_remaining=0 if paid else cents,
                   status=status, number=f"{sub['customer'][4:12].upper()}-{n:06d}",
                   collection_method="send_invoice" if status == "open"
                   else "charge_automatically",
                   due_date=created + 30 * DAY if status == "open" else None,
                   attempted=status != "draft", attempt_count=int(status != "draft"),
                   period_start=created - 30 * DAY, period_end=created,
                   webhooks_delivered_at=created,
                   lines={**inv["lines"], "url": f"/v1/invoices/{inv_id}/lines"},
                   parent={**inv["parent"], "subscription_details": {
                       "metadata": {}, "subscription": sub["id"]}},
                   status_transitions={
                       "finalized_at": finalized, "marked_uncollectible_at":
                       created + 40 * DAY if status == "uncollectible" else None,
                       "paid_at": created + 4000 if paid else None,
                       "voided_at": created + 5000 if status == "void" else None})
        out.invoices.append(inv)


def start_fakes(scale: Scale, seed: int) -> tuple[FakeSalesforce, FakeStripe, Generated]:
    rng, now = random.Random(seed), datetime.now(UTC)
    out = Generated()
    companies = generate_salesforce(scale, rng, now, out)
    generate_stripe(scale, rng, now, companies, out)
    salesforce = FakeSalesforce(out.salesforce, token=SF_TOKEN).start()
    stripe = FakeStripe(customers=out.customers, subscriptions=out.subscriptions,
                        invoices=out.invoices, api_key=STRIPE_KEY)
    # Stripe keeps 30 days of events: those of the objects created in the last 20 days.
    recent = int(now.timestamp()) - 20 * DAY
    for kind, objs in (("customer.created", out.customers),
                       ("customer.subscription.created", out.subscriptions),
                       ("invoice.created", out.invoices)):
        for obj in objs:
            if obj["created"] >= recent:
                stripe.change(obj, kind, created=obj["created"])
    # The fakes hold copies: keep only what the checks and changes need.
    out.salesforce = {o: [{"Id": r["Id"]} for r in rs] for o, rs in out.salesforce.items()}
    out.customers = [{"id": c["id"], "name": c["name"]} for c in out.customers]
    out.subscriptions = [{"id": s["id"], "status": s["status"]} for s in out.subscriptions]
    out.invoices = [{"id": i["id"], "status": i["status"]} for i in out.invoices]
    return salesforce, stripe.start(), out


# -- what the fakes serve ---------------------------------------------------------------------

@dataclass
class Served:
    """Requests answered and records served by a fake, by path."""

    requests: Counter = field(default_factory=Counter)
    records: Counter = field(default_factory=Counter)

    def total(self) -> tuple[int, int]:
        return sum(self.requests.values()), sum(self.records.values())


def count_served(fake: FakeSalesforce | FakeStripe) -> Served:
    """Wrap the fake's `answer` to count what it serves (its request log keeps no bodies)."""
    served, answer = Served(), fake.answer

    def counting(method: str, target: str, *args: Any) -> tuple:
        status, body, extra = answer(method, target, *args)
        path = urlsplit(target).path
        if isinstance(fake, FakeSalesforce):
            key = "query" if path.endswith("/") else "more batches"
            records = body.get("records", []) if isinstance(body, dict) else []
        else:  # a list, or one object retrieved: /v1/subscriptions/{id}
            key = re.sub(r"^(/v1/\w+)/.+$", r"\1/{id}", path)
            records = body.get("data", [body]) if status == 200 else []
        served.requests[key] += 1
        served.records[key] += len(records)
        return status, body, extra

    fake.answer = counting  # type: ignore[method-assign]
    return served


# -- changes in the vendors ---------------------------------------------------------------------

@dataclass
class Changes:
    records: int = 0  # vendor records changed (Stripe: events)
    rows: int = 0  # contract rows they load as
    expected: dict[str, dict[str, Any]] = field(default_factory=dict)  # check → id → value


def change_salesforce(fake: FakeSalesforce, rng: random.Random) -> Changes:
    """1% of each object changes: an account gets a new CSM, a contact a new title, an open
    opportunity closes won. Records are replaced in place: `upsert` scans for the Id."""
    changes = Changes(expected={"owner_email": {}, "title": {}, "outcome": {}})
    moment = datetime.now(UTC)
    for obj, records in fake.records.items():
        pool = [n for n, r in enumerate(records)
                if obj != "Opportunity" or not r["IsClosed"]]
        for k, n in enumerate(rng.sample(pool, math.ceil(CHANGED_SHARE * len(records)))):
            r = dict(records[n])
            stamp = _sf_time(moment + timedelta(milliseconds=k % 997))
            r["SystemModstamp"] = stamp
            if obj == "Account":
                email = f"new.csm{k % 7}@quarterdeck.example"
                r.update(Owner={**r["Owner"], "Email": email}, LastModifiedDate=stamp,
                         OwnerId=f"005Hs{k % 7:010d}NEW")
                changes.expected["owner_email"][f"crm:{r['Id']}"] = email
            elif obj == "Contact":
                r["Title"] = f"Chief Customer Officer {k}"
                changes.expected["title"][f"crm:{r['Id']}"] = r["Title"]
            else:
                r.update(StageName="Closed Won", IsClosed=True, IsWon=True)
                changes.expected["outcome"][f"crm:{r['Id']}"] = "won"
            records[n] = r
            changes.records += 1
            changes.rows += 1
    return changes


def change_stripe(fake: FakeStripe, generated: Generated, rng: random.Random) -> Changes:
    """1% of each object changes, each with its event: a customer is renamed, an active
    subscription adds seats, an open invoice is paid."""
    changes = Changes(expected={"name": {}, "quantity": {}, "status": {}})
    moment = int(time.time())
    for customer in rng.sample(generated.customers,
                               math.ceil(CHANGED_SHARE * len(generated.customers))):
        new = fake.get(customer["id"]) | {"name": f"{customer['name']} Group"}
        fake.change(new, "customer.updated", created=moment,
                    previous_attributes={"name": customer["name"]})
        changes.expected["name"][f"billing:{customer['id']}"] = new["name"]
        changes.rows += 1
    active = [s for s in generated.subscriptions if s["status"] == "active"]
    for sub in rng.sample(active, math.ceil(CHANGED_SHARE * len(generated.subscriptions))):
        before = fake.get(sub["id"])
        new = copy.deepcopy(before)
        item = new["items"]["data"][0]
        item["quantity"] += 5
        fake.change(new, "customer.subscription.updated", created=moment,
                    previous_attributes={"items": before["items"]})
        changes.expected["quantity"][f"billing:{item['id']}"] = item["quantity"]
        changes.rows += generated.sub_rows[sub["id"]]
    open_invoices = [i for i in generated.invoices if i["status"] == "open"]
    for inv in rng.sample(open_invoices, math.ceil(CHANGED_SHARE * len(generated.invoices))):
        new = fake.get(inv["id"])
        new.update(status="paid", amount_paid=new["total"], amount_remaining=0)
        new["status_transitions"]["paid_at"] = moment
        fake.change(new, "invoice.paid", created=moment)
        changes.expected["status"][f"billing:{inv['id']}"] = "paid"
        changes.rows += 1
    changes.records = sum(len(v) for v in changes.expected.values())
    return changes


# -- the workspace and the warehouse ------------------------------------------------------------

def write_sources(ws: Path, salesforce: FakeSalesforce, stripe: FakeStripe) -> dict[str, str]:
    """sources.yml pointing at the fakes; the environment the syncs run with."""
    sources = {
        "crm": {"kind": "salesforce", "base_url": salesforce.url,
                "options": {"segment_field": "Segment__c", "region_field": "Region__c",
                            "multi_currency": True,
                            "external_id_fields": {"billing": "Stripe_Customer_Id__c"}}},
        "billing": {"kind": "stripe", "base_url": stripe.url},
    }
    (ws / "definitions" / "sources.yml").write_text(yaml.safe_dump({"sources": sources}))
    return {**os.environ, "REQUESTS_CA_BUNDLE": salesforce.ca_file, "COLUMNS": "200",
            "QUARTERDECK_CRM_ACCESS_TOKEN": SF_TOKEN, "QUARTERDECK_BILLING_API_KEY": STRIPE_KEY}


def query(ws: Path, sql: str, *params: Any) -> list[tuple]:
    con = connect(open_workspace(ws).warehouse_url, read_only=True)
    try:
        return con.con.execute(sql, list(params)).fetchall()
    finally:
        con.disconnect()


def ids_of(ws: Path, table: str, column: str, source: str, distinct: str = "") -> list[str]:
    return [r[0] for r in query(ws, f"SELECT {distinct} {column} FROM {table} "
                                    f"WHERE {column} LIKE ?", f"{source}:%")]


def check_full(ws: Path, generated: Generated) -> list[str]:
    """Every generated record in the warehouse by id, parents linked; the problems found."""
    problems = []
    wanted = {
        ("accounts", "account_id", "crm"): [r["Id"] for r in generated.salesforce["Account"]],
        ("contacts", "contact_id", "crm"): [r["Id"] for r in generated.salesforce["Contact"]],
        ("opportunities", "opportunity_id", "crm"):
            [r["Id"] for r in generated.salesforce["Opportunity"]],
        ("accounts", "account_id", "billing"): [c["id"] for c in generated.customers],
        ("invoices", "invoice_id", "billing"): [i["id"] for i in generated.invoices],
        ("subscriptions", "contract_id", "billing"): [s["id"] for s in generated.subscriptions],
    }
    for (table, column, source), ids in wanted.items():
        # a subscription's items are rows of one contract; any other id is one row
        found = ids_of(ws, table, column, source, "DISTINCT" * (table == "subscriptions"))
        expected = {f"{source}:{i}" for i in ids}
        if len(found) != len(expected) or set(found) != expected:
            problems.append(f"{table} of {source}: {len(found):,} rows "
                            f"({len(set(found) & expected):,} of the {len(expected):,} "
                            f"generated ids)")
    (rows,), = query(ws, "SELECT count(*) FROM subscriptions WHERE contract_id LIKE ?",
                     "billing:%")
    if rows != sum(generated.sub_rows.values()):
        problems.append(f"subscriptions: {rows:,} rows, expected "
                        f"{sum(generated.sub_rows.values()):,}")
    (linked,), = query(ws, "SELECT count(*) FROM accounts WHERE account_id LIKE 'crm:%' "
                           "AND parent_account_id IS NOT NULL")
    if linked != generated.children:
        problems.append(f"{linked:,} child accounts linked to their parent, expected "
                        f"{generated.children:,}")
    return problems


CHANGE_CHECKS = {  # check → (table, id column, the changed column)
    "owner_email": ("accounts", "account_id", "owner_email"),
    "title": ("contacts", "contact_id", "title"),
    "outcome": ("opportunities", "opportunity_id", "outcome"),
    "name": ("accounts", "account_id", "name"),
    "quantity": ("subscriptions", "subscription_id", "CAST(quantity AS BIGINT)"),
    "status": ("invoices", "invoice_id", "status"),
}


def check_changes(ws: Path, changes: Changes) -> list[str]:
    problems = []
    for check, expected in changes.expected.items():
        table, key, column = CHANGE_CHECKS[check]
        found = dict(query(ws, f"SELECT {key}, {column} FROM {table} WHERE {key} IN "
                               "(SELECT unnest(?))", list(expected)))
        wrong = sum(found.get(k) != v for k, v in expected.items())
        if wrong:
            problems.append(f"{table}.{check}: {wrong:,} of {len(expected):,} changed rows "
                            "do not hold their new value")
    return problems


def rejected_files(ws: Path) -> list[Path]:
    folder = ws / "data" / "rejects"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# -- running --------------------------------------------------------------------------------

SUMMARY = re.compile(r"^(?P<source>[\w-]+): (?P<records>[\d,]+) records read, "
                     r"(?P<rows>[\d,]+) rows loaded(?:, (?P<rejected>[\d,]+) rows set aside)?",
                     re.M)
COLUMNS = (("phase", 26), ("seconds", 9), ("records/s", 11), ("records", 11), ("rows", 11),
           ("RSS MB", 9), ("CPU s", 8), ("fake rq", 9), ("fake s", 8))


@dataclass
class Phase:
    """One sync: what it read and loaded, its time and peak memory, and what the fake did."""

    name: str
    seconds: float
    rss_mb: float
    cpu: float
    records: int
    rows: int
    rejected: int
    served: Served

    def line(self, fake_cpu: float) -> str:
        requests, _ = self.served.total()
        cells = (self.name, f"{self.seconds:.1f}", f"{self.records / self.seconds:,.0f}",
                 f"{self.records:,}", f"{self.rows:,}", f"{self.rss_mb:.0f}", f"{self.cpu:.1f}",
                 f"{requests:,}", f"{fake_cpu:.1f}")
        return "".join(c.ljust(w) if n == 0 else c.rjust(w)
                       for n, (c, (_, w)) in enumerate(zip(cells, COLUMNS, strict=True)))


def _count(match: re.Match, group: str) -> int:
    return int((match.group(group) or "0").replace(",", ""))


def sync(ws: Path, source: str, env: dict[str, str], served: Served, name: str) -> Phase:
    """`quarterdeck sync <source>` as its own process; prints the phase's line."""
    before = copy.deepcopy(served)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    fake_cpu = time.process_time()  # this process does nothing but serve the fakes meanwhile
    secs, rss, out = measure([BIN, "sync", source, "--workspace", ws], env=env)
    fake_cpu = time.process_time() - fake_cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    match = SUMMARY.search(out)
    if not match:
        raise SystemExit(f"no summary in the output of quarterdeck sync {source}:\n{out}")
    delta = Served(served.requests - before.requests, served.records - before.records)
    cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    phase = Phase(name, secs, rss, cpu, _count(match, "records"), _count(match, "rows"),
                  _count(match, "rejected"), delta)
    print(phase.line(fake_cpu), flush=True)
    return phase


def check_incremental(phases: dict[str, Phase], salesforce: FakeSalesforce,
                      changed: dict[str, Changes]) -> list[str]:
    """From the sync output and the fakes' logs: the incremental syncs read only the changes."""
    problems = []
    for source, phase in phases.items():
        c = changed[source]
        if (phase.records, phase.rows) != (c.records, c.rows):
            problems.append(f"{source} incremental: {phase.records:,} records read and "
                            f"{phase.rows:,} rows loaded, expected {c.records:,} and "
                            f"{c.rows:,}")
    crm, billing = phases["crm"].served, phases["billing"].served
    if sum(crm.records.values()) != changed["crm"].records:
        problems.append(f"Salesforce served {sum(crm.records.values()):,} records for "
                        f"{changed['crm'].records:,} changes")
    queries = salesforce.queries()
    soql = queries[len(queries) - crm.requests["query"]:]
    if len(soql) != 3 or not all(" WHERE SystemModstamp >= " in q for q in soql):
        problems.append(f"Salesforce incremental queries not from the cursor: {soql}")
    listed = {p: n for p, n in billing.requests.items()
              if p in ("/v1/customers", "/v1/subscriptions", "/v1/invoices")}
    if listed:
        problems.append(f"Stripe incremental listed objects again: {listed}")
    if billing.records["/v1/events"] != changed["billing"].records:
        problems.append(f"Stripe served {billing.records['/v1/events']:,} events for "
                        f"{changed['billing'].records:,} changes")
    return problems


@with_load
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="S")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark workspace")
    args = parser.parse_args()
    scale = SCALES[args.scale]
    bound = rss_bound_mb(scale.accounts + scale.customers)
    print(f"Quarterdeck sync benchmark, scale {args.scale}: Salesforce {scale.accounts:,} "
          f"Accounts, {scale.contacts:,} Contacts, {scale.opportunities:,} Opportunities; "
          f"Stripe {scale.customers:,} customers, {scale.subscriptions:,} subscriptions, "
          f"{scale.invoices:,} invoices; {psutil.cpu_count()} cores")
    started = time.perf_counter()
    salesforce, stripe, generated = start_fakes(scale, args.seed)
    print(f"records generated and served by the fakes in {time.perf_counter() - started:.1f} s",
          flush=True)
    served = {"crm": count_served(salesforce), "billing": count_served(stripe)}
    root = Path(tempfile.mkdtemp(prefix="qd-bench-sync-"))
    problems: list[str] = []
    phases: list[Phase] = []
    try:
        ws = root / "ws"
        subprocess.run([BIN, "init", ws], check=True, capture_output=True)
        env = write_sources(ws, salesforce, stripe)
        print("".join(h.ljust(w) if n == 0 else h.rjust(w)
                      for n, (h, w) in enumerate(COLUMNS)), flush=True)
        for source, total in (("crm", scale.salesforce), ("billing", scale.stripe)):
            phases.append(sync(ws, source, env, served[source], f"{source} full sync"))
            if phases[-1].records != total:
                problems.append(f"{source}: {phases[-1].records:,} records read of {total:,}")
        problems += check_full(ws, generated)
        rng = random.Random(args.seed + 1)
        changed = {"crm": change_salesforce(salesforce, rng),
                   "billing": change_stripe(stripe, generated, rng)}
        incremental = {source: sync(ws, source, env, served[source],
                                    f"{source} incremental (1%)")
                       for source in ("crm", "billing")}
        phases += incremental.values()
        for source, phase in incremental.items():
            print(f"  {source} incremental, the fake's log: " + ", ".join(
                f"{path} {n:,} requests, {phase.served.records[path]:,} records"
                for path, n in sorted(phase.served.requests.items())))
        problems += check_incremental(incremental, salesforce, changed)
        for c in changed.values():
            problems += check_changes(ws, c)
        if any(p.rejected for p in phases) or rejected_files(ws):
            problems.append(f"rows set aside: {[p.rejected for p in phases]}, files "
                            f"{[str(p) for p in rejected_files(ws)]}")
        counts = {t: query(ws, f"SELECT count(*) FROM {t}")[0][0] for t in
                  ("accounts", "contacts", "opportunities", "subscriptions", "invoices")}
        print("warehouse: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()))
        peak = max(p.rss_mb for p in phases)
        held = "held" if peak <= bound else "NOT HELD"
        print(f"memory bound: peak RSS {peak:,.0f} MB, bound {bound:,.0f} MB (512 MB + 8 MB per "
              f"1,000 accounts; {scale.accounts + scale.customers:,} accounts): {held}")
        if peak > bound:
            problems.append(f"peak RSS {peak:,.0f} MB over the bound of {bound:,.0f} MB")
    finally:
        salesforce.stop()
        stripe.stop()
        if args.keep:
            print(f"workspace kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    if problems:
        raise SystemExit("FAILED:\n  " + "\n  ".join(problems))
    print(f"every check held: all {scale.salesforce + scale.stripe:,} records loaded, only "
          f"the {sum(c.records for c in changed.values()):,} changes read again "
          f"({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
