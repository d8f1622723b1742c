"""From matched pairs to customers: connected components under rules that keep accounts apart.

Pairs are taken strongest first — manual confirmations, shared ids, equal domains, then
probabilistic matches by falling probability (ties by account ids, so the result is
deterministic) — and each joins the two groups its accounts are in, unless a rule forbids
the group it would make:

- split: two accounts a `split` override names, through any chain of matches; nothing
  overrides it.
- hierarchy: an account and its parent (or any ancestor); a `confirm` overrides it.
- siblings: two children of one parent (the parent's distinct units); a shared id or a
  `confirm` overrides it.
- paying: two groups that both hold an account with paying subscriptions, for probabilistic
  matches only (exact keys and confirmations merge them), unless `merge_paying_accounts`.
- domains: two groups whose accounts are on different web domains (no registrable label in
  common), for probabilistic matches only: a record without a domain that matches both
  "Acme Analytics" (acmeanalytics.com) and "Acme Analytica" (acmeanalytica.com) joins one.

A pair refused by split is decided `split`, by hierarchy or siblings `rejected`; a
probabilistic pair refused by the paying or domains rule goes to `review`, as do pairs
scoring in the review band. Whatever a pair's own fate, if its two accounts end in one
customer it reads `merged` (or `confirmed`).

Example: cluster(["a", "b"], [Candidate("a", "b", "domain", 1.0, "same domain a.com")],
Rules(...)).customer_of == {"a": 0, "b": 0}.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

METHOD_RANK = {"manual": 0, "shared_id": 1, "domain": 2, "probabilistic": 3}


@dataclass
class Candidate:
    """A pair of accounts (left < right) with the evidence that they are one company."""

    left: str
    right: str
    method: str  # manual | shared_id | domain | probabilistic
    probability: float | None
    evidence: str
    decision: str = ""


@dataclass(frozen=True)
class Rules:
    threshold: float
    split: Sequence[tuple[str, str]] = ()
    parents: Mapping[str, str] = field(default_factory=dict)  # account → its parent
    paying: frozenset[str] = frozenset()
    merge_paying_accounts: bool = False
    domains: Mapping[str, str] = field(default_factory=dict)  # account → its domain label


@dataclass
class Clustering:
    clusters: list[list[str]]        # the accounts of each customer, sorted
    cluster_of: dict[str, int]       # account → index into clusters
    pairs: list[Candidate]           # every candidate with its decision, by account ids


class _Groups:
    """Union-find over accounts, tracking members and paying accounts per group."""

    def __init__(self, accounts: Iterable[str], paying: frozenset[str],
                 domains: Mapping[str, str]) -> None:
        self.parent = {a: a for a in accounts}
        self.members = {a: [a] for a in self.parent}
        self.paying = {a: int(a in paying) for a in self.parent}
        self.domains = {a: {domains[a]} if domains.get(a) else set() for a in self.parent}

    def find(self, a: str) -> str:
        root = a
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[a] != root:
            self.parent[a], a = root, self.parent[a]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if len(self.members[ra]) < len(self.members[rb]) or (
                len(self.members[ra]) == len(self.members[rb]) and rb < ra):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra] += self.members.pop(rb)
        self.paying[ra] += self.paying.pop(rb)
        self.domains[ra] |= self.domains.pop(rb)


def _ancestors(parents: Mapping[str, str]) -> dict[str, list[str]]:
    """Each account's chain of parents (a cycle in the data is cut where it closes)."""
    out = {}
    for account in parents:
        chain, seen, node = [], {account}, parents.get(account)
        while node is not None and node not in seen:
            chain.append(node)
            seen.add(node)
            node = parents.get(node)
        out[account] = chain
    return out


def _apart(rules: Rules, accounts: set[str]) -> dict[str, list[tuple[str, str]]]:
    """account → [(other account, rule)] for every pair a rule keeps apart."""
    apart: dict[str, list[tuple[str, str]]] = defaultdict(list)

    def add(a: str, b: str, kind: str) -> None:
        if a in accounts and b in accounts and a != b:
            apart[a].append((b, kind))
            apart[b].append((a, kind))

    for a, b in rules.split:
        add(a, b, "split")
    for account, chain in _ancestors(rules.parents).items():
        for ancestor in chain:
            add(account, ancestor, "hierarchy")
    children: dict[str, list[str]] = defaultdict(list)
    for account, parent in rules.parents.items():
        children[parent].append(account)
    for kids in children.values():
        kids = sorted(kids)
        for i, a in enumerate(kids):
            for b in kids[i + 1:]:
                add(a, b, "siblings")
    return apart


_OVERRIDES = {  # which rules a method may override
    "manual": {"hierarchy", "siblings"},
    "shared_id": {"siblings"},
    "domain": set(),
    "probabilistic": set(),
}
_REASON = {
    "split": "split in identity.yml",
    "hierarchy": "parent and child accounts",
    "siblings": "children of one parent",
}


def _conflict(groups: _Groups, apart: Mapping[str, list[tuple[str, str]]], a: str, b: str,
              method: str) -> tuple[str, str, str] | None:
    """The rule (and the two accounts it names) that forbids joining a's and b's groups."""
    ra, rb = groups.find(a), groups.find(b)
    if len(groups.members[ra]) > len(groups.members[rb]):
        ra, rb = rb, ra
    found = None
    for x in groups.members[ra]:
        for y, kind in apart.get(x, ()):
            if kind not in _OVERRIDES[method] and groups.find(y) == rb:
                if kind == "split":
                    return kind, x, y
                found = found or (kind, x, y)
    return found


def _refuse(pair: Candidate, conflict: tuple[str, str, str]) -> None:
    kind, x, y = conflict
    pair.decision = "split" if kind == "split" else "rejected"
    direct = {x, y} == {pair.left, pair.right}
    pair.evidence += f"; {_REASON[kind]}" + ("" if direct else f" ({x}, {y})")


def _apart_domains(groups: _Groups, a: str, b: str) -> bool:
    da, db = groups.domains[groups.find(a)], groups.domains[groups.find(b)]
    return bool(da and db and not da & db)


def cluster(accounts: Sequence[str], candidates: Sequence[Candidate], rules: Rules
            ) -> Clustering:
    """Group `accounts` into customers by `candidates`, deciding every candidate pair."""
    groups = _Groups(sorted(accounts), rules.paying, rules.domains)
    apart = _apart(rules, set(groups.parent))
    order = sorted(candidates, key=lambda p: (METHOD_RANK[p.method], -(p.probability or 0),
                                              p.left, p.right))
    merging = [p for p in order if p.method != "probabilistic"
               or (p.probability or 0) >= rules.threshold]
    for pair in merging:
        if groups.find(pair.left) == groups.find(pair.right):
            continue  # decided below, once every merge is known
        conflict = _conflict(groups, apart, pair.left, pair.right, pair.method)
        if conflict is not None:
            _refuse(pair, conflict)
        elif (pair.method == "probabilistic" and not rules.merge_paying_accounts
              and groups.paying[groups.find(pair.left)]
              and groups.paying[groups.find(pair.right)]):
            pair.decision = "review"
            pair.evidence += "; both have paying subscriptions"
        elif pair.method == "probabilistic" and _apart_domains(groups, pair.left, pair.right):
            pair.decision = "review"
            pair.evidence += "; on different domains"
        else:
            groups.union(pair.left, pair.right)
    for pair in order:
        together = groups.find(pair.left) == groups.find(pair.right)
        if together:
            pair.decision = "confirmed" if pair.method == "manual" else "merged"
        elif not pair.decision:
            conflict = _conflict(groups, apart, pair.left, pair.right, pair.method)
            if conflict is not None:
                _refuse(pair, conflict)
            else:
                pair.decision = "review"
    roots = sorted({groups.find(a) for a in groups.parent},
                   key=lambda r: min(groups.members[r]))
    clusters = [sorted(groups.members[r]) for r in roots]
    cluster_of = {a: i for i, members in enumerate(clusters) for a in members}
    return Clustering(clusters, cluster_of,
                      sorted(candidates, key=lambda p: (p.left, p.right)))
