"""Identity resolution of the accounts table: which accounts are one customer, and why.

The steps, each in its own module:

1. `account_keys`: normalised name, domain, contacts' email domains, country, region,
   industry, segment, owner and creation day of every account;
2. `exact_keys`: pairs sharing an id (`external_ids`) or a domain;
3. `probabilistic`: Splink scores candidate pairs; those at or above the threshold merge,
   those in the review band below it are listed for review (`incremental`: after the
   first resolution, only the pairs of accounts that changed are scored again);
4. manual `confirm` and `split` pairs from identity.yml;
5. `clusters`: connected components, strongest evidence first, under the rules that keep
   accounts apart (split, hierarchy, siblings, paying, different domains);
6. `survivorship`: each customer's id and accounts row.

Pure: Arrow tables in, Arrow tables out; the same input gives the same tables.
Example: resolve_accounts(accounts, paying={"a1"}, definitions=IdentityDefinitions(),
source_kinds={"stripe": "stripe"}).account_resolution.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from quarterdeck.identity.account_keys import account_keys
from quarterdeck.identity.clusters import METHOD_RANK, Candidate, Rules, cluster
from quarterdeck.identity.definitions import IdentityDefinitions
from quarterdeck.identity.exact_keys import domain_pairs, shared_id_pairs
from quarterdeck.identity.incremental import PAIRS_SCHEMA, IdentityState, Plan, kept_pairs, plan
from quarterdeck.identity.probabilistic import describe_levels, score_pairs
from quarterdeck.identity.source_priority import account_source
from quarterdeck.identity.survivorship import Trust, customer_accounts, customer_member
from quarterdeck.identity.tables import ACCOUNT_MATCHES_SCHEMA, ACCOUNT_RESOLUTION_SCHEMA


@dataclass
class Resolution:
    account_resolution: pa.Table
    account_matches: pa.Table
    customer_accounts: pa.Table
    notes: list[str] = field(default_factory=list)
    state: IdentityState | None = None  # what the next resolution builds on
    plan: Plan | None = None            # how the pairs were scored, and why

    @property
    def accounts(self) -> int:
        return self.account_resolution.num_rows

    @property
    def customers(self) -> int:
        return self.customer_accounts.num_rows

    def decisions(self) -> dict[str, int]:
        counts = self.account_matches["decision"].value_counts().to_pylist()
        return {c["values"]: c["counts"] for c in counts}


def _column(table: pa.Table, name: str) -> list:
    return table[name].to_pylist() if name in table.column_names else [None] * table.num_rows


def _scored(keys: pa.Table, definitions: IdentityDefinitions,
            previous: IdentityState | None, full: bool) -> tuple[IdentityState, Plan]:
    """The probabilistic pairs at or above the review floor, scored in full or for the
    changed accounts only (see `incremental`), in the state left for the next resolution."""
    chosen = plan(previous, keys, definitions, full=full)
    incremental = chosen.mode == "incremental" and previous is not None
    scored, model = score_pairs(
        keys, min_probability=definitions.review_floor,
        model=previous.model if incremental else None,
        changed=chosen.changed if incremental else None)
    involved = pa.array(sorted({a for p in scored for a in (p.left, p.right)}), pa.string())
    shown = keys.filter(pc.is_in(keys["account_id"], value_set=involved)).to_pylist()
    rows = {r["account_id"]: r for r in shown}
    new = pa.table({
        "left_account_id": [p.left for p in scored],
        "right_account_id": [p.right for p in scored],
        "match_probability": [p.probability for p in scored],
        "evidence": [describe_levels(p.levels, rows[p.left], rows[p.right]) for p in scored],
    }, schema=PAIRS_SCHEMA)
    if incremental:
        pairs = pa.concat_tables([kept_pairs(previous, chosen.changed), new])
        pairs = pairs.sort_by([("left_account_id", "ascending"),
                               ("right_account_id", "ascending")])
        state = IdentityState(keys, pairs, model, definitions.review_floor,
                              previous.fitted_accounts,
                              previous.changed_since_fit + len(chosen.changed))
    else:
        state = IdentityState(keys, new, model, definitions.review_floor, keys.num_rows, 0)
    return state, chosen


def _candidates(accounts: pa.Table, keys: pa.Table, scored: pa.Table,
                definitions: IdentityDefinitions, source_names: list[str], known: set[str],
                notes: list[str]) -> dict[tuple[str, str], Candidate]:
    """Every pair with evidence, one Candidate each (its strongest method leads)."""
    ids = _column(accounts, "account_id")
    found: dict[tuple[str, str], list[tuple[str, float | None, str]]] = {}

    def add(a: str, b: str, method: str, probability: float | None, evidence: str) -> None:
        pair = (a, b) if a < b else (b, a)
        found.setdefault(pair, []).append((method, probability, evidence))

    for p in shared_id_pairs(ids, _column(accounts, "external_ids"), source_names):
        add(p.left, p.right, p.method, 1.0, p.evidence)
    for p in domain_pairs(ids, _column(keys, "domain"), _column(keys, "name")):
        add(p.left, p.right, p.method, 1.0, p.evidence)
    for left, right, probability, evidence in zip(
            *(scored[c].to_pylist() for c in PAIRS_SCHEMA.names), strict=True):
        add(left, right, "probabilistic", probability, evidence)
    for a, b in definitions.confirm:
        missing = [x for x in (a, b) if x not in known]
        if missing:
            notes.append(f"identity.yml confirm [{a}, {b}]: no account {missing[0]} is "
                         "loaded; ignored")
            continue
        add(a, b, "manual", 1.0, "confirmed in identity.yml")
    out = {}
    for pair, evidence in found.items():
        evidence.sort(key=lambda e: (METHOD_RANK[e[0]], -(e[1] or 0)))
        method, probability, _ = evidence[0]
        # The model's reading follows any exact key, marked as such.
        text = "; ".join(e[2] if i == 0 or e[0] != "probabilistic" else f"model: {e[2]}"
                         for i, e in enumerate(evidence))
        out[pair] = Candidate(pair[0], pair[1], method, probability, text)
    return out


def _split_pairs(definitions: IdentityDefinitions, known: set[str], notes: list[str]
                 ) -> list[tuple[str, str]]:
    pairs = []
    for a, b in definitions.split:
        missing = [x for x in (a, b) if x not in known]
        if missing:
            notes.append(f"identity.yml split [{a}, {b}]: no account {missing[0]} is loaded; "
                         "ignored")
            continue
        pairs.append((a, b) if a < b else (b, a))
    return pairs


def resolve_accounts(accounts: pa.Table, *, paying: Iterable[str],
                     definitions: IdentityDefinitions, source_kinds: Mapping[str, str],
                     contact_domains: Mapping[str, Iterable[str]] | None = None,
                     previous: IdentityState | None = None, full: bool = False
                     ) -> Resolution:
    """Resolve the canonical `accounts` table into customers.

    `paying` holds the ids of accounts with paying subscriptions; `source_kinds` maps each
    configured source's name to its kind (`{"crm": "hubspot"}`); `contact_domains` maps an
    account id to the email domains of its contacts and users. `previous` is the state the
    last resolution left (`Resolution.state`): with it only the accounts that changed are
    scored, unless `full` or `incremental.plan` says otherwise."""
    accounts = accounts.sort_by("account_id")
    source_names = sorted(source_kinds)
    ids: list[str] = _column(accounts, "account_id")
    known = set(ids)
    sources = [account_source(a, source_names) for a in ids]
    notes: list[str] = []
    keys = account_keys(accounts, contact_domains)
    state, chosen = _scored(keys, definitions, previous, full)
    candidates = _candidates(accounts, keys, state.pairs, definitions, source_names, known,
                             notes)
    splits = _split_pairs(definitions, known, notes)
    parents = {a: p for a, p in zip(ids, _column(accounts, "parent_account_id"), strict=True)
               if p is not None and p in known}
    rules = Rules(threshold=definitions.threshold, split=splits, parents=parents,
                  paying=frozenset(paying) & known,
                  merge_paying_accounts=definitions.merge_paying_accounts,
                  domains=dict(zip(ids, _column(keys, "domain_label"), strict=True)))
    result = cluster(ids, list(candidates.values()), rules)
    unmatched_splits = [Candidate(a, b, "manual", None, "split in identity.yml", "split")
                        for a, b in splits if (a, b) not in candidates]
    result.pairs = sorted([*result.pairs, *unmatched_splits], key=lambda p: (p.left, p.right))

    trust = Trust.of(definitions, source_kinds)
    customer_ids = _customer_ids(accounts, result.clusters, sources, trust)
    row_of = {a: i for i, a in enumerate(ids)}
    clusters = [[row_of[a] for a in members] for members in result.clusters]
    return Resolution(
        _resolution_table(ids, sources, customer_ids, result.pairs),
        _matches_table(result.pairs),
        customer_accounts(accounts, clusters, sources, trust, customer_ids, source_names),
        notes, state, chosen)


def _customer_ids(accounts: pa.Table, clusters: list[list[str]], sources: list[str],
                  trust: Trust) -> dict[str, str]:
    """account id → its customer id (the most trusted member's account id)."""
    rows = accounts.select([c for c in ("account_id", "created_at")
                            if c in accounts.column_names]).to_pylist()
    row_of = {r["account_id"]: i for i, r in enumerate(rows)}
    out: dict[str, str] = {}
    for members in clusters:
        index = [row_of[a] for a in members]
        chosen = customer_member([rows[i] for i in index], [sources[i] for i in index], trust)
        out.update(dict.fromkeys(members, members[chosen]))
    return out


def _resolution_table(ids: list[str], sources: list[str], customer_ids: dict[str, str],
                      pairs: list[Candidate]) -> pa.Table:
    """`account_resolution`: each account's method is the strongest accepted pair it is in."""
    best: dict[str, Candidate] = {}
    for pair in pairs:
        if pair.decision not in ("merged", "confirmed"):
            continue
        for account in (pair.left, pair.right):
            held = best.get(account)
            if held is None or (METHOD_RANK[pair.method], -(pair.probability or 0)) < (
                    METHOD_RANK[held.method], -(held.probability or 0)):
                best[account] = pair
    own = [customer_ids[a] == a for a in ids]
    return pa.table({
        "account_id": ids,
        "customer_id": [customer_ids[a] for a in ids],
        "source": sources,
        "method": ["self" if o else best[a].method for a, o in zip(ids, own, strict=True)],
        "match_probability": [None if o else _rounded(best[a].probability)
                              for a, o in zip(ids, own, strict=True)],
    }, schema=ACCOUNT_RESOLUTION_SCHEMA)


def _matches_table(pairs: list[Candidate]) -> pa.Table:
    return pa.table({
        "left_account_id": [p.left for p in pairs],
        "right_account_id": [p.right for p in pairs],
        "match_probability": [_rounded(p.probability) for p in pairs],
        "evidence": [p.evidence for p in pairs],
        "decision": [p.decision for p in pairs],
    }, schema=ACCOUNT_MATCHES_SCHEMA)


def _rounded(probability: float | None) -> float | None:
    # Six places: what a reviewer reads, and stable from one run to the next.
    return None if probability is None else round(probability, 6)
