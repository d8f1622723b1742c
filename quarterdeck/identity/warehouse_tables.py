"""Running identity resolution against a warehouse: read accounts, write the three tables.

Reads the loaded `accounts` table (small: pulled into Arrow whole), which accounts have
paying subscriptions and the email domains of each account's contacts and users (both
aggregated where the data lives), resolves them, and replaces
`account_resolution`, `account_matches` and `customer_accounts`, with the state the next
resolution builds on (the `identity_state_*` tables: keys, scored pairs, model). On DuckDB
all are replaced in one transaction, so a reader never sees one new and another old. Running
it twice on the same data writes the same rows.

Example: resolve_identities(con, load_identity_definitions(ws.definitions_dir),
{n: s.kind for n, s in ws.sources.sources.items()}).customers.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

import pyarrow as pa
from ibis.backends import BaseBackend

from quarterdeck.identity.definitions import IdentityDefinitions
from quarterdeck.identity.incremental import STATE_TABLES, IdentityState
from quarterdeck.identity.resolution import Resolution, resolve_accounts
from quarterdeck.identity.tables import ACCOUNT_MATCHES, ACCOUNT_RESOLUTION, CUSTOMER_ACCOUNTS
from quarterdeck.warehouse.incremental import transaction
from quarterdeck.warehouse.schema import canonical_schema


def loaded_accounts(con: BaseBackend) -> pa.Table:
    """The accounts table as loaded (not resolved), as Arrow."""
    if "accounts" not in con.list_tables():
        return canonical_schema("accounts").to_pyarrow().empty_table()
    return con.to_pyarrow(con.table("accounts"))


def paying_accounts(con: BaseBackend) -> set[str]:
    """Ids of accounts with at least one paying subscription row (priced, not a trial)."""
    if "subscriptions" not in con.list_tables():
        return set()
    s = con.table("subscriptions")
    paid = s.filter((s.quantity > 0) & (s.unit_price > 0) & (s.discount.fill_null(0) < 1)
                    & ~s.trial.fill_null(False))
    return set(con.to_pyarrow(paid.select("account_id").distinct())["account_id"].to_pylist())


def contact_domains(con: BaseBackend) -> dict[str, set[str]]:
    """account id → the email domains of its contacts and users (distinct, where they live)."""
    parts = []
    for name in ("contacts", "users"):
        if name in con.list_tables():
            t = con.table(name)
            parts.append(t.select(t.account_id, domain=t.email.lower().re_extract(
                r"@([^@\s]+)$", 1)))
    if not parts:
        return {}
    both = parts[0] if len(parts) == 1 else parts[0].union(parts[1])
    rows = con.to_pyarrow(both.filter(both.domain.notnull() & (both.domain != ""))
                          .distinct()).to_pylist()
    out: dict[str, set[str]] = {}
    for row in rows:
        out.setdefault(row["account_id"], set()).add(row["domain"])
    return out


def resolve_identities(con: BaseBackend, definitions: IdentityDefinitions,
                       source_kinds: Mapping[str, str], *, full: bool = False) -> Resolution:
    """Resolve the loaded accounts into customers and write the resolution tables.

    Builds on the state the last resolution left in the warehouse (only the accounts that
    changed are scored again; see `quarterdeck.identity.incremental`) unless `full`."""
    resolution = resolve_accounts(loaded_accounts(con), paying=paying_accounts(con),
                                  definitions=definitions, source_kinds=source_kinds,
                                  contact_domains=contact_domains(con),
                                  previous=None if full else previous_state(con), full=full)
    write_resolution(con, resolution)
    return resolution


def previous_state(con: BaseBackend) -> IdentityState | None:
    """The state the last resolution wrote, if any (None for another format)."""
    present = set(con.list_tables())
    if any(name not in present for name in STATE_TABLES):
        return None
    return IdentityState.from_tables({name: con.to_pyarrow(con.table(name))
                                      for name in STATE_TABLES})


def write_resolution(con: BaseBackend, resolution: Resolution) -> None:
    """Replace the three resolution tables with `resolution`'s, and its state."""
    tables = {ACCOUNT_RESOLUTION: resolution.account_resolution,
              ACCOUNT_MATCHES: resolution.account_matches,
              CUSTOMER_ACCOUNTS: resolution.customer_accounts,
              **(resolution.state.tables() if resolution.state else {})}
    if con.name == "duckdb":
        _replace_in_one_transaction(con, tables)
        return
    for name, table in tables.items():
        con.drop_table(name, force=True)
        con.create_table(name, table)


def _replace_in_one_transaction(con: BaseBackend, tables: Mapping[str, pa.Table]) -> None:
    raw = con.con  # type: ignore[attr-defined]
    views = {name: f"_qd_{name}_{secrets.token_hex(4)}" for name in tables}
    for name, view in views.items():
        raw.register(view, tables[name])
    try:
        with transaction(raw):
            for name, view in views.items():
                raw.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM "{view}"')
    finally:
        for view in views.values():
            raw.unregister(view)
