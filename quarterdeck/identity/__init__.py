"""Identity resolution: accounts from every source matched into one customer.

See docs/identity.md. `resolve_accounts` is the pure engine (Arrow in, Arrow out);
`resolve_identities` runs it against a warehouse and writes `account_resolution`,
`account_matches` and `customer_accounts`, which `canonical_tables` then reads through.
"""

from __future__ import annotations

from quarterdeck.identity.definitions import IdentityDefinitions, load_identity_definitions
from quarterdeck.identity.resolution import Resolution, resolve_accounts
from quarterdeck.identity.tables import RESOLUTION_TABLES
from quarterdeck.identity.warehouse_tables import resolve_identities

__all__ = ["IdentityDefinitions", "RESOLUTION_TABLES", "Resolution", "load_identity_definitions",
           "resolve_accounts", "resolve_identities"]
