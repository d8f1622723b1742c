"""The warehouse tables identity resolution writes, and their schemas.

- `account_resolution`: every loaded account and the customer it belongs to, with how it was
  matched (`self`, `shared_id`, `domain`, `probabilistic`, `manual`) and the probability.
- `account_matches`: every pair with evidence worth reading, and what was decided
  (`merged`, `review`, `rejected`, `confirmed`, `split`).
- `customer_accounts`: the accounts table after survivorship, one row per customer (the same
  columns as `accounts`); `canonical_tables` serves it as `accounts`.
"""

from __future__ import annotations

import pyarrow as pa

ACCOUNT_RESOLUTION = "account_resolution"
ACCOUNT_MATCHES = "account_matches"
CUSTOMER_ACCOUNTS = "customer_accounts"
RESOLUTION_TABLES = (ACCOUNT_RESOLUTION, ACCOUNT_MATCHES, CUSTOMER_ACCOUNTS)

METHODS = ("self", "shared_id", "domain", "probabilistic", "manual")
DECISIONS = ("merged", "review", "rejected", "confirmed", "split")

ACCOUNT_RESOLUTION_SCHEMA = pa.schema([
    ("account_id", pa.string()),
    ("customer_id", pa.string()),
    ("source", pa.string()),
    ("method", pa.string()),
    ("match_probability", pa.float64()),
])
ACCOUNT_MATCHES_SCHEMA = pa.schema([
    ("left_account_id", pa.string()),
    ("right_account_id", pa.string()),
    ("match_probability", pa.float64()),
    ("evidence", pa.string()),
    ("decision", pa.string()),
])
