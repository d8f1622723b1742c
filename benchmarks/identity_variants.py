"""Identity resolution on duplicates the demo never makes: precision and recall per class.

    .venv/bin/python benchmarks/identity.py --variants              # 2,000 accounts
    .venv/bin/python benchmarks/identity.py --variants --scale M    # 20,000 accounts
    .venv/bin/python benchmarks/identity.py --variants --scale L    # 100,000 accounts
    .venv/bin/python benchmarks/identity.py --variants --sparse     # help-desk-like records

A company is generated (`quarterdeck.testing.identity_variants`) with 1.5% of its accounts
per class injected: second records of a company spelled another way (case and punctuation,
legal suffixes, "The", "&"/"and", abbreviations, typos, swapped letters, no domain, another
top-level domain, another owner), and distinct companies that look alike (near-identical
names, sister companies on one domain). The resolution runs in this process on the accounts
and their contacts' email domains, exactly as `quarterdeck identity resolve` would; the
truth is read only afterwards.

The baseline, measured in the same run: accounts with equal lower-cased names or equal
domains put together (a dictionary pass, what a spreadsheet VLOOKUP finds). Printed: the
load average before and after, seconds of both (and the resolution's CPU seconds), their
ratio, peak RSS, and per class the
pairs injected, merged and falsely merged, with recall and precision. Targets: overall
precision ≥ 0.98 and recall ≥ 0.95, no duplicate class below 0.85 recall, 100,000 accounts
in under 60 s on 2 cores.
"""

from __future__ import annotations

import random
import resource
import time
from collections import defaultdict
from itertools import combinations

import psutil

from quarterdeck.identity import IdentityDefinitions, resolve_accounts
from quarterdeck.testing.identity_variants import (
    APART_CLASSES,
    SOURCE_KINDS,
    VariantWorld,
    merged_pairs,
    score,
    true_pairs,
    variant_world,
)

VARIANT_SCALES = {"S": 2_000, "M": 20_000, "L": 100_000}
TARGET_PRECISION, TARGET_RECALL, TARGET_CLASS_RECALL = 0.98, 0.95, 0.85


def baseline_pairs(world: VariantWorld) -> set[tuple[str, str]]:
    """Pairs of accounts with equal lower-cased names or equal lower-cased domains."""
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in world.accounts.select(["account_id", "name", "domain"]).to_pylist():
        for key in ("name", "domain"):
            if row[key]:
                groups[(key, row[key].strip().lower())].append(row["account_id"])
    return {tuple(sorted(p)) for members in groups.values() if len(members) > 1
            for p in combinations(members, 2)}


def _cpu_seconds() -> float:
    """CPU time of this process, all threads: a measure that a busy machine inflates less."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _overall(found: set[tuple[str, str]], truth: set[tuple[str, str]]) -> tuple[float, float]:
    hits = len(found & truth)
    return hits / len(found) if found else 1.0, hits / len(truth) if truth else 1.0


def run_variants(scale: str, *, accounts: int | None = None, sparse: bool = False,
                 seed: int = 7) -> None:
    n = accounts or VARIANT_SCALES[scale]
    print(f"Quarterdeck identity benchmark, injected variants: {n:,} accounts"
          f"{' (sparse records)' if sparse else ''}, {psutil.cpu_count()} cores, "
          f"load average {psutil.getloadavg()[0]:.1f} at the start", flush=True)
    started = time.perf_counter()
    world = variant_world(n, seed=seed, sparse=sparse)
    print(f"generated {world.accounts.num_rows:,} accounts in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    truth = true_pairs(world)

    started = time.perf_counter()
    base = baseline_pairs(world)
    base_secs = time.perf_counter() - started
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    result = resolve_accounts(world.accounts, paying=(), definitions=IdentityDefinitions(),
                              source_kinds=SOURCE_KINDS, contact_domains=world.contacts)
    secs, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
    found = merged_pairs(result.account_resolution)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"\n{'class':<22}{'pairs':>7}{'merged':>8}{'false':>7}{'recall':>8}"
          f"{'precision':>11}")
    for kind, s in score(world, found).items():
        if kind in APART_CLASSES:
            print(f"{kind:<22}{s.pairs:>7}{s.merged:>8}{s.false_merges:>7}{'-':>8}"
                  f"{'kept apart ' + format(1 - s.merged / s.pairs, '.3f'):>22}")
        else:
            print(f"{kind:<22}{s.pairs:>7}{s.merged:>8}{s.false_merges:>7}"
                  f"{s.recall:>8.3f}{s.precision:>11.3f}")
    precision, recall = _overall(found, truth)
    b_precision, b_recall = _overall(base, truth)
    classes = score(world, found)
    worst = min(s.recall for k, s in classes.items() if k not in APART_CLASSES)
    met = (precision >= TARGET_PRECISION and recall >= TARGET_RECALL
           and worst >= TARGET_CLASS_RECALL)
    print(f"\noverall: precision {precision:.3f}, recall {recall:.3f} ({len(found & truth):,} "
          f"of {len(truth):,} true pairs; {len(found):,} merged), lowest class recall "
          f"{worst:.3f}; targets {'met' if met else 'NOT MET'}")
    print(f"review queue: {result.decisions().get('review', 0):,} pairs")
    print(f"baseline (equal lower-cased name or domain): precision {b_precision:.3f}, recall "
          f"{b_recall:.3f}")
    print(f"resolution {secs:.1f} s ({cpu:.1f} s of CPU), baseline {base_secs:.2f} s "
          f"(ratio {secs / base_secs:,.0f}x)"
          f", peak RSS {peak:,.0f} MB, load average {psutil.getloadavg()[0]:.1f} at the end")


def _warehouse(world: VariantWorld, accounts) -> object:
    """An in-memory DuckDB warehouse holding `accounts` and the world's contacts."""
    import ibis
    import pyarrow as pa

    con = ibis.duckdb.connect()
    con.create_table("accounts", accounts)
    ids = set(accounts["account_id"].to_pylist())
    rows = [(a, e) for a, emails in world.contacts.items() if a in ids for e in emails]
    con.create_table("contacts", pa.table({"account_id": [r[0] for r in rows],
                                           "email": [r[1] for r in rows]}))
    return con


def _timed(fn):
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    result = fn()
    return result, time.perf_counter() - started, _cpu_seconds() - cpu_started


def run_incremental(scale: str, *, accounts: int | None = None, seed: int = 7,
                    share: float = 0.01) -> None:
    """A sync that changed `share` of the accounts: resolved incrementally on the state the
    last resolution left, against a full resolution of the same book in the same run."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from quarterdeck.identity import resolve_identities

    n = accounts or VARIANT_SCALES[scale]
    print(f"Quarterdeck identity benchmark, incremental: {n:,} accounts, {share:.0%} changed, "
          f"{psutil.cpu_count()} cores, load average {psutil.getloadavg()[0]:.1f} at the start",
          flush=True)
    world = variant_world(n, seed=seed)
    table = world.accounts
    ids = table["account_id"].to_pylist()
    rng = random.Random(seed)
    changed = rng.sample(ids, max(2, round(share * len(ids))))
    new, edited = set(changed[::2]), set(changed[1::2])
    # Before the sync: the new accounts absent, the edited ones with their old owner and
    # region (a CRM sync's usual change).
    before = table.filter(pc.invert(pc.is_in(table["account_id"],
                                             value_set=pa.array(sorted(new)))))
    owners = [None if a in edited else o for a, o in zip(
        before["account_id"].to_pylist(), before["owner_email"].to_pylist(), strict=True)]
    before = before.set_column(before.column_names.index("owner_email"), "owner_email",
                               pa.array(owners, pa.string()))
    definitions = IdentityDefinitions()
    con = _warehouse(world, before)
    _, first_secs, _ = _timed(lambda: resolve_identities(con, definitions, SOURCE_KINDS))
    print(f"first resolution (full) of {before.num_rows:,} accounts: {first_secs:.1f} s",
          flush=True)
    con_full = _warehouse(world, table)  # the book after the sync, resolved from nothing
    con.create_table("accounts", table, overwrite=True)
    con.create_table("contacts", con_full.to_pyarrow(con_full.table("contacts")),
                     overwrite=True)
    full, full_secs, full_cpu = _timed(
        lambda: resolve_identities(con_full, definitions, SOURCE_KINDS, full=True))
    inc, inc_secs, inc_cpu = _timed(lambda: resolve_identities(con, definitions,
                                                               SOURCE_KINDS))
    truth = true_pairs(world)
    for label, result in (("full", full), ("incremental", inc)):
        found = merged_pairs(result.account_resolution)
        precision, recall = _overall(found, truth)
        print(f"{label:<12} precision {precision:.3f}, recall {recall:.3f}, "
              f"{result.customers:,} customers, {result.decisions().get('review', 0):,} "
              f"in review")
    same = (merged_pairs(full.account_resolution) == merged_pairs(inc.account_resolution))
    print(f"incremental: {inc.plan.reason}")
    print(f"customers the same as the full resolution's: {'yes' if same else 'NO'}")
    print(f"full resolution {full_secs:.1f} s ({full_cpu:.1f} s CPU), incremental "
          f"{inc_secs:.1f} s ({inc_cpu:.1f} s CPU): ratio {inc_secs / full_secs:.2f} "
          f"(below 1: faster), peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB, load average "
          f"{psutil.getloadavg()[0]:.1f} at the end")

