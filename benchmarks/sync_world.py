"""The records the sync benchmark serves: a Salesforce org and a Stripe account, generated.

Every record is a copy of a record of the connector tests' fixtures (tests/sources/fixtures)
with its fields set, so the shapes are the ones the connectors are tested on; `start_fakes`
serves them from the local fakes (`quarterdeck.testing.fake_salesforce`, `fake_stripe`).
"""

from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from quarterdeck.demo import names
from quarterdeck.testing.fake_salesforce import FakeSalesforce
from quarterdeck.testing.fake_stripe import FakeStripe

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "sources" / "fixtures"
SF_TOKEN = "00DBench0000001!SyncBenchmarkAccessToken"
STRIPE_KEY = "sk_test_sync-benchmark-4242"
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


def sf_time(moment: datetime) -> str:
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
            return sf_time(rng.choice(candidates))
    span = (until - created).total_seconds()
    return sf_time(created + timedelta(seconds=rng.random() * span))


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
            Phone=f"+1 555 {rng.randrange(10_000_000):07d}", CreatedDate=sf_time(created),
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
            "CreatedDate": sf_time(created), "SystemModstamp": stamp})
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
            "IsWon": stage == "Closed Won", "CreatedDate": sf_time(created),
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
