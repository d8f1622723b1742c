"""Benchmark of connector syncs: Salesforce and Stripe, a full sync, then an incremental one.

    .venv/bin/python benchmarks/sync.py              # scale S: 35,000 Salesforce + 14,500 Stripe
    .venv/bin/python benchmarks/sync.py --scale M    # 10x: 350,000 + 145,000 records
    .venv/bin/python benchmarks/sync.py --scale L    # 50x: 1.75M + 725,000 records

The local fakes of the two APIs (`quarterdeck.testing.fake_salesforce`, `fake_stripe`) run in
this process, filled with generated records shaped like the connector tests' fixtures
(tests/sources/fixtures: every record is a copy of a fixture record with its fields set;
see sync_world.py).
A fresh workspace gets two sources, `crm` (Salesforce, over HTTPS with the fake's own CA) and
`billing` (Stripe), and each `quarterdeck sync <source>` runs as its own process:

1. a full sync of each source; then the warehouse is counted: every generated record must be
   there (by id), child accounts linked to their parents, nothing set aside;
2. 1% of each object is changed in the fakes (Salesforce: a new SystemModstamp; Stripe: the
   event announcing the change), and each source is synced again. The fakes' request logs
   must show that only the changes were read (Salesforce queries from the cursor, Stripe
   events only, no listing), and the warehouse must hold the new values.

The baseline, in the same run: right after each full sync, the requests it made to its fake
are sent again, in order, by a plain `requests` session in a process of its own (each body
parsed as JSON, its records counted, nothing mapped or loaded). The full sync's seconds ÷
the plain fetch's are printed (higher is slower): what Quarterdeck adds over fetching.

Printed per phase: wall time, records read per second, rows loaded, the sync's peak RSS
(sampled every 50 ms) and CPU seconds, and the fake's requests and CPU seconds (the fake
shares the machine with the sync); after the incremental syncs, the fakes' logs by request.
The load average is printed before and after. The run fails unless every check holds and
the peak RSS of every sync stays under `rss_bound_mb` (see docs/benchmarks-sync.md).
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
import sys
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
from sync_world import SCALES, SF_TOKEN, STRIPE_KEY, Generated, sf_time, start_fakes

from quarterdeck.testing.fake_salesforce import FakeSalesforce
from quarterdeck.testing.fake_stripe import FakeStripe
from quarterdeck.warehouse.connection import connect
from quarterdeck.workspace.workspace import open_workspace

CHANGED_SHARE = 0.01

RSS_FIXED_MB, RSS_PER_1000_ACCOUNTS_MB = 400, 16
RSS_BOUND = f"{RSS_FIXED_MB} MB + {RSS_PER_1000_ACCOUNTS_MB} MB per 1,000 accounts"


def rss_bound_mb(accounts: int) -> float:
    """The memory a sync may use: a fixed part (Python and its libraries, a flush of 50,000
    rows, DuckDB loading it) and identity resolution's part, which runs over every account
    in the workspace after each sync (the accounts' keys in Python, Splink's scoring of their
    candidate pairs), as measured at 7,000 and 70,000 accounts: 400 MB plus 16 MB per 1,000
    accounts."""
    return RSS_FIXED_MB + RSS_PER_1000_ACCOUNTS_MB * accounts / 1000


# -- what the fakes serve ---------------------------------------------------------------------

@dataclass
class Served:
    """Requests answered and records served by a fake, by path."""

    requests: Counter = field(default_factory=Counter)
    records: Counter = field(default_factory=Counter)
    targets: list[str] = field(default_factory=list)  # every request's path and query

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
        served.targets.append(target)
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
            stamp = sf_time(moment + timedelta(milliseconds=k % 997))
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


def _run(cmd: list, env: dict[str, str], served: Served
         ) -> tuple[float, float, float, str, Served, float]:
    """Run `cmd` as its own process: seconds, peak RSS MB, CPU seconds, output, what the fake
    served meanwhile and the fake's CPU seconds."""
    before = len(served.targets), copy.copy(served.requests), copy.copy(served.records)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    fake_cpu = time.process_time()  # this process does nothing but serve the fakes meanwhile
    secs, rss, out = measure(cmd, env=env)
    fake_cpu = time.process_time() - fake_cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    delta = Served(served.requests - before[1], served.records - before[2],
                   served.targets[before[0]:])
    cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    return secs, rss, cpu, out, delta, fake_cpu


def sync(ws: Path, source: str, env: dict[str, str], served: Served, name: str) -> Phase:
    """`quarterdeck sync <source>` as its own process; prints the phase's line."""
    secs, rss, cpu, out, delta, fake_cpu = _run([BIN, "sync", source, "--workspace", ws], env,
                                                served)
    match = SUMMARY.search(out)
    if not match:
        raise SystemExit(f"no summary in the output of quarterdeck sync {source}:\n{out}")
    phase = Phase(name, secs, rss, cpu, _count(match, "records"), _count(match, "rows"),
                  _count(match, "rejected"), delta)
    print(phase.line(fake_cpu), flush=True)
    return phase


FETCH_SNIPPET = """
import json, sys
import requests
plan = json.loads(open(sys.argv[1]).read())
session = requests.Session()
session.headers.update(plan["headers"])
records = 0
for target in plan["targets"]:
    response = session.get(plan["base"] + target)
    response.raise_for_status()
    body = response.json()
    records += len(body.get("records", body.get("data", [body])))
print(records)
"""


def plain_fetch(root: Path, full: Phase, base_url: str, authorization: str,
                env: dict[str, str], served: Served) -> Phase:
    """The baseline: the full sync's requests sent again by a plain `requests` session in a
    process of its own, bodies parsed, records counted; prints its line and the ratio."""
    plan = root / "fetch.json"
    plan.write_text(json.dumps({
        "base": base_url, "targets": full.served.targets,
        "headers": {"Authorization": authorization,
                    "Sforce-Query-Options": "batchSize=2000"}}))
    secs, rss, cpu, out, delta, fake_cpu = _run(
        [sys.executable, "-c", FETCH_SNIPPET, plan], env, served)
    phase = Phase(full.name.replace("full sync", "plain fetch"), secs, rss, cpu,
                  int(out.split()[-1]), 0, 0, delta)
    print(phase.line(fake_cpu))
    print(f"  {full.name} ÷ plain fetch: {full.seconds / secs:.1f} (higher is slower: what "
          "mapping, loading and identity resolution add to reading)", flush=True)
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
        fakes = {"crm": (salesforce.url, f"Bearer {SF_TOKEN}"),
                 "billing": (stripe.url, f"Bearer {STRIPE_KEY}")}
        for source, total in (("crm", scale.salesforce), ("billing", scale.stripe)):
            phases.append(sync(ws, source, env, served[source], f"{source} full sync"))
            if phases[-1].records != total:
                problems.append(f"{source}: {phases[-1].records:,} records read of {total:,}")
            fetched = plain_fetch(root, phases[-1], *fakes[source], env, served[source])
            if fetched.records != phases[-1].served.total()[1]:
                problems.append(f"{source}: the plain fetch read {fetched.records:,} records, "
                                f"the sync was served {phases[-1].served.total()[1]:,}")
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
        print(f"memory bound: peak RSS {peak:,.0f} MB, bound {bound:,.0f} MB ({RSS_BOUND}; "
              f"{scale.accounts + scale.customers:,} accounts): {held}")
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
