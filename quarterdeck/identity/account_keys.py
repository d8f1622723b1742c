"""The matching keys of each account: its normalised name, domain, country, region, industry.

One row per account, computed once from the canonical `accounts` table (small enough to hold
in Arrow). Exact keys and the probabilistic model read only these columns.

Example: account_keys(accounts)["name"] holds "acme analytics" for "ACME ANALYTICS, Inc.".
"""

from __future__ import annotations

import pyarrow as pa

from quarterdeck.identity.normalise import (
    domain_label,
    normalise_country,
    normalise_domain,
    normalise_label,
    normalise_name,
)

KEY_SCHEMA = pa.schema([
    ("account_id", pa.string()),
    ("name", pa.string()),          # normalised name
    ("name_compact", pa.string()),  # the name without spaces ("acmeanalytics")
    ("domain", pa.string()),        # normalised host, or the name when it is a domain
    ("domain_label", pa.string()),  # the host's registrable label ("acmeanalytics")
    ("country", pa.string()),
    ("region", pa.string()),
    ("industry", pa.string()),
])


def _column(accounts: pa.Table, name: str) -> list:
    if name not in accounts.column_names:
        return [None] * accounts.num_rows
    return accounts[name].to_pylist()


def account_keys(accounts: pa.Table) -> pa.Table:
    """The normalised keys of every account, in the order of `accounts`."""
    names = _column(accounts, "name")
    norm_names = [normalise_name(n) for n in names]
    domains = []
    for raw, name in zip(_column(accounts, "domain"), names, strict=True):
        domain = normalise_domain(raw)
        if domain is None and name is not None and " " not in name.strip() and "." in name:
            domain = normalise_domain(name)  # "acme.io" as a name says where the company is
        domains.append(domain)
    return pa.table({
        "account_id": _column(accounts, "account_id"),
        "name": norm_names,
        "name_compact": [n.replace(" ", "") if n else None for n in norm_names],
        "domain": domains,
        "domain_label": [domain_label(d) for d in domains],
        "country": [normalise_country(c) for c in _column(accounts, "country")],
        "region": [normalise_label(r) for r in _column(accounts, "region")],
        "industry": [normalise_label(i) for i in _column(accounts, "industry")],
    }, schema=KEY_SCHEMA)
