"""The matching keys of each account: every field the records give, in normalised form.

One row per account, computed once from the canonical `accounts` table (small enough to hold
in Arrow) and the email domains of the account's contacts and users. Exact keys and the
probabilistic model read only these columns.

Example: account_keys(accounts)["name"] holds "acme analytics" for "ACME ANALYTICS, Inc.".
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping

import pyarrow as pa

from quarterdeck.identity.normalise import (
    domain_label,
    normalise_country,
    normalise_domain,
    normalise_label,
    normalise_name,
    registrable_domain,
)

# A contact email domain shared by more accounts than this (a reseller, an agency, a
# university) identifies nobody.
MAX_CONTACT_DOMAIN_GROUP = 20
# Names longer than this (without spaces) get no one-letter-deleted variants for blocking.
MAX_VARIANT_LENGTH = 40
# A word of more distinct names than this is too common to bring names together.
MAX_RARE_WORD_NAMES = 20
# Words shorter than this bring names together only when spelled alike (their one-letter-
# deleted forms are too short to say anything).
MIN_VARIANT_WORD = 5

KEY_SCHEMA = pa.schema([
    ("account_id", pa.string()),
    ("name", pa.string()),          # normalised name
    ("name_compact", pa.string()),  # the name without spaces ("acmeanalytics")
    ("name_deletions", pa.list_(pa.string())),  # the compact name less any one letter
    ("rare_words", pa.list_(pa.string())),      # its words of 4+ letters few names use
    ("word_variants", pa.list_(pa.string())),   # the rare words, and each less one letter
    ("name_letters", pa.string()),  # the compact name's letters in order ("acme" → "acem")
    ("domain", pa.string()),        # normalised host, or the name when it is a domain
    ("domain_label", pa.string()),  # the host's registrable label ("acmeanalytics")
    ("site", pa.string()),          # the host's registrable domain ("acme.co.uk")
    ("contact_domains", pa.list_(pa.string())),  # registrable domains of contacts' emails
    ("email_domains", pa.list_(pa.string())),    # contact domains and the site, to block on
    ("country", pa.string()),
    ("region", pa.string()),
    ("industry", pa.string()),
    ("segment", pa.string()),
    ("owner", pa.string()),
    ("created", pa.date32()),
])


def _column(accounts: pa.Table, name: str) -> list:
    if name not in accounts.column_names:
        return [None] * accounts.num_rows
    return accounts[name].to_pylist()


def deletions(compact: str | None) -> list[str] | None:
    """`compact` and every string one letter shorter: two names within one edit (a typo,
    a missing or extra letter, two letters swapped) share at least one of these."""
    if compact is None or len(compact) < 4 or len(compact) > MAX_VARIANT_LENGTH:
        return None
    return sorted({compact, *(compact[:i] + compact[i + 1:] for i in range(len(compact)))})


def rare_words(names: list[str | None]) -> list[list[str] | None]:
    """Per name, its words of 4 letters or more that at most MAX_RARE_WORD_NAMES distinct
    names use."""
    distinct = {n for n in names if n}
    counts = Counter(w for n in distinct for w in set(n.split()))
    return [sorted(w for w in set((name or "").split())
                   if len(w) >= 4 and counts[w] <= MAX_RARE_WORD_NAMES) or None
            for name in names]


def word_variants(rare: list[list[str] | None]) -> list[list[str] | None]:
    """Per name, its rare words, each also less any one letter: names with a typo in two
    words still share their other word's variants."""
    return [sorted({v for w in words or ()
                    for v in (deletions(w) if len(w) >= MIN_VARIANT_WORD else [w])}) or None
            for words in rare]


def _contact_domains(ids: list[str], contact_domains: Mapping[str, Iterable[str]]
                     ) -> list[list[str] | None]:
    """Each account's contacts' registrable email domains, less those of many accounts."""
    per_account = []
    for account in ids:
        found = {normalise_domain(d) for d in contact_domains.get(account, ())}
        per_account.append(sorted({registrable_domain(d) for d in found if d}))
    holders = Counter(d for domains in per_account for d in domains)
    return [[d for d in domains if holders[d] <= MAX_CONTACT_DOMAIN_GROUP] or None
            for domains in per_account]


def _day(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def account_keys(accounts: pa.Table,
                 contact_domains: Mapping[str, Iterable[str]] | None = None) -> pa.Table:
    """The normalised keys of every account, in the order of `accounts`.

    `contact_domains` maps an account id to the email addresses (or domains) of its contacts
    and users."""
    ids = _column(accounts, "account_id")
    names = _column(accounts, "name")
    norm_names = [normalise_name(n) for n in names]
    compact = [n.replace(" ", "") if n else None for n in norm_names]
    domains = []
    for raw, name in zip(_column(accounts, "domain"), names, strict=True):
        domain = normalise_domain(raw)
        if domain is None and name is not None and " " not in name.strip() and "." in name:
            domain = normalise_domain(name)  # "acme.io" as a name says where the company is
        domains.append(domain)
    sites = [registrable_domain(d) if d else None for d in domains]
    rare = rare_words(norm_names)
    contacts = _contact_domains(ids, contact_domains or {})
    return pa.table({
        "account_id": ids,
        "name": norm_names,
        "name_compact": compact,
        "name_deletions": [deletions(c) for c in compact],
        "rare_words": rare,
        "word_variants": word_variants(rare),
        "name_letters": ["".join(sorted(c)) if c else None for c in compact],
        "domain": domains,
        "domain_label": [domain_label(d) for d in domains],
        "site": sites,
        "contact_domains": contacts,
        "email_domains": [sorted({*(c or ()), *([s] if s else [])}) or None
                          for c, s in zip(contacts, sites, strict=True)],
        "country": [normalise_country(c) for c in _column(accounts, "country")],
        "region": [normalise_label(r) for r in _column(accounts, "region")],
        "industry": [normalise_label(i) for i in _column(accounts, "industry")],
        "segment": [normalise_label(s) for s in _column(accounts, "segment")],
        "owner": [o.strip().casefold() or None if o else None
                  for o in _column(accounts, "owner_email")],
        "created": [_day(c) for c in _column(accounts, "created_at")],
    }, schema=KEY_SCHEMA)
