"""Exact keys: accounts that name each other's ids, and accounts on one web domain.

- Shared id: an account's `external_ids` (`{"stripe": "cus_N1"}`) names another system's own
  id for the same company. It links to the account with that id (`stripe:cus_N1`), and to any
  other account naming the same id. Every account also holds its own id under its source, so
  `{"files": "acct-7"}` on a CRM company links it to the file account `acct-7`.
- Domain: accounts whose normalised domains are equal (`www.Acme.com/` = `acme.com`; free-mail
  domains never count) and whose names do not disagree: equal once normalised, or one
  missing. Sister companies share a domain under other
  names ("Globex Retail", "Globex Logistics" on globex.com); such pairs, and typo'd names,
  are left to the probabilistic model. A domain held by more than `MAX_DOMAIN_GROUP`
  accounts (a reseller, a shared host) identifies nobody and is ignored.

Example: shared_id_pairs(["crm:1", "stripe:cus_N1"], [{"stripe": "cus_N1"}, None], {"crm",
"stripe"}) == [Pair("crm:1", "stripe:cus_N1", "shared_id", "shared id stripe:cus_N1")].
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

import orjson

from quarterdeck.identity.source_priority import FILES_SOURCE, account_source

MAX_DOMAIN_GROUP = 100


@dataclass(frozen=True, order=True)
class Pair:
    """Two accounts linked by an exact key (left < right), and the key in words."""

    left: str
    right: str
    method: str  # shared_id | domain
    evidence: str


def _ordered(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def parse_external_ids(value: str | None) -> dict[str, str]:
    """The {source: id} object of an `external_ids` value; empty when absent or not an object."""
    if not value:
        return {}
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k).strip(): str(v).strip() for k, v in data.items()
            if isinstance(v, str | int) and not isinstance(v, bool) and str(v).strip()}


def own_key(account_id: str, sources: Iterable[str]) -> tuple[str, str]:
    """(source, the source's own id) of an account id: `stripe:cus_N1` → (stripe, cus_N1)."""
    source = account_source(account_id, sources)
    return source, (account_id if source == FILES_SOURCE else account_id.split(":", 1)[1])


def shared_id_pairs(account_ids: Sequence[str], external_ids: Sequence[str | None],
                    sources: Iterable[str]) -> list[Pair]:
    """Pairs of accounts holding the same (source, id): one's own id, or named in
    `external_ids`. Each group is linked as a star from its first account id."""
    sources = set(sources)
    holders: dict[tuple[str, str], set[str]] = defaultdict(set)
    for account_id, value in zip(account_ids, external_ids, strict=True):
        holders[own_key(account_id, sources)].add(account_id)
        for source, other in parse_external_ids(value).items():
            holders[(source, other)].add(account_id)
    pairs = set()
    for (source, other), accounts in holders.items():
        if len(accounts) < 2:
            continue
        first, *rest = sorted(accounts)
        shown = other if source == FILES_SOURCE else f"{source}:{other}"
        for account in rest:
            pairs.add(Pair(*_ordered(first, account), "shared_id", f"shared id {shown}"))
    return sorted(pairs)


def _agree(a: str | None, b: str | None) -> bool:
    """Whether two normalised names allow one company (equal but for spaces, or one
    missing)."""
    return a is None or b is None or a.replace(" ", "") == b.replace(" ", "")


def domain_pairs(account_ids: Sequence[str], domains: Sequence[str | None],
                 names: Sequence[str | None] | None = None) -> list[Pair]:
    """Every pair of accounts with the same normalised domain (groups up to MAX_DOMAIN_GROUP)
    whose normalised `names` (when given) agree."""
    names = names if names is not None else [None] * len(account_ids)
    groups: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    for account_id, domain, name in zip(account_ids, domains, names, strict=True):
        if domain:
            groups[domain].append((account_id, name))
    pairs = []
    for domain, accounts in groups.items():
        if len(accounts) > MAX_DOMAIN_GROUP:
            continue
        for (a, name_a), (b, name_b) in combinations(sorted(accounts), 2):
            if _agree(name_a, name_b):
                pairs.append(Pair(a, b, "domain", f"same domain {domain}"))
    return sorted(pairs)
