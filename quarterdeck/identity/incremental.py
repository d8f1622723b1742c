"""Incremental resolution: a load that changed a few accounts compares only those.

Each resolution keeps what the next one needs (`IdentityState`): every account's keys, the
scored pairs (those at or above the review floor, with their evidence) and the scoring model
(the prior, the u of every level, each name's frequency). The next resolution finds the
accounts whose keys differ (new, edited, removed, or whose keys moved because other names
did: a word that became common, a contact domain now shared by many), scores only the pairs
with one of them — every blocking rule also requires a changed side, so each meets its
blocks and nothing else — and keeps the other scored pairs as they were. Exact keys, manual
overrides, clustering and survivorship run over every account each time: they are cheap
and global (a new pair can join two customers).

A full resolution re-fits the model and scores every pair. `plan` asks for one when there is
no state, when the state is of another format, when identity.yml's review floor changed,
when `full` is asked (`quarterdeck identity resolve --full`) and when the accounts changed
since the model was fitted reach `REFIT_SHARE` of them (the frequencies and u drift as the
book changes). Between full resolutions an incremental one finds exactly the pairs a full
scoring with the kept model would find (tested).

Example: plan(state, account_keys(accounts), definitions, full=False).mode == "incremental".
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from quarterdeck.identity.account_keys import KEY_SCHEMA
from quarterdeck.identity.definitions import IdentityDefinitions
from quarterdeck.identity.probabilistic import ScoringModel

STATE_FORMAT = 1
# Share of the accounts that may change after a model's fit before the next resolution
# re-fits it.
REFIT_SHARE = 0.10

STATE_KEYS = "identity_state_keys"
STATE_PAIRS = "identity_state_pairs"
STATE_MODEL = "identity_state_model"
STATE_FREQUENCIES = "identity_state_frequencies"
STATE_TABLES = (STATE_KEYS, STATE_PAIRS, STATE_MODEL, STATE_FREQUENCIES)

PAIRS_SCHEMA = pa.schema([
    ("left_account_id", pa.string()),
    ("right_account_id", pa.string()),
    ("match_probability", pa.float64()),
    ("evidence", pa.string()),
])
MODEL_SCHEMA = pa.schema([
    ("format", pa.int32()),
    ("review_floor", pa.float64()),
    ("prior", pa.float64()),
    ("u", pa.string()),  # JSON: comparison → u of each level; null for the shipped priors
    ("fitted_accounts", pa.int64()),
    ("changed_since_fit", pa.int64()),
])
FREQUENCIES_SCHEMA = pa.schema([("name", pa.string()), ("tf_name", pa.float64())])


@dataclass(frozen=True)
class IdentityState:
    """What a resolution leaves for the next one."""

    keys: pa.Table          # KEY_SCHEMA, one row per account
    pairs: pa.Table         # PAIRS_SCHEMA: scored pairs at or above `review_floor`
    model: ScoringModel
    review_floor: float
    fitted_accounts: int    # accounts the model was fitted on
    changed_since_fit: int  # accounts changed in the resolutions since
    format: int = STATE_FORMAT

    def tables(self) -> dict[str, pa.Table]:
        model = pa.table({
            "format": [self.format], "review_floor": [self.review_floor],
            "prior": [self.model.prior],
            "u": [None if self.model.u is None else json.dumps(self.model.u, sort_keys=True)],
            "fitted_accounts": [self.fitted_accounts],
            "changed_since_fit": [self.changed_since_fit]}, schema=MODEL_SCHEMA)
        names = sorted(self.model.frequencies)
        frequencies = pa.table({"name": names,
                                "tf_name": [self.model.frequencies[n] for n in names]},
                               schema=FREQUENCIES_SCHEMA)
        return {STATE_KEYS: self.keys.cast(KEY_SCHEMA), STATE_PAIRS: self.pairs,
                STATE_MODEL: model, STATE_FREQUENCIES: frequencies}

    @classmethod
    def from_tables(cls, tables: dict[str, pa.Table]) -> IdentityState | None:
        """The state read back; None when a table is missing or of another format."""
        if any(name not in tables for name in STATE_TABLES):
            return None
        model = tables[STATE_MODEL].to_pylist()
        if len(model) != 1 or model[0]["format"] != STATE_FORMAT:
            return None
        row = model[0]
        frequencies = tables[STATE_FREQUENCIES]
        scoring = ScoringModel(
            row["prior"], None if row["u"] is None else json.loads(row["u"]),
            dict(zip(frequencies["name"].to_pylist(), frequencies["tf_name"].to_pylist(),
                     strict=True)))
        return cls(tables[STATE_KEYS], tables[STATE_PAIRS], scoring, row["review_floor"],
                   row["fitted_accounts"], row["changed_since_fit"])


@dataclass(frozen=True)
class Plan:
    mode: str               # "full" or "incremental"
    changed: frozenset[str]  # accounts whose keys differ from the state's (all for full)
    reason: str             # why, in words


def changed_accounts(keys: pa.Table, before: pa.Table) -> set[str]:
    """Ids of accounts whose keys differ from `before`'s, new ones and removed ones."""
    con = duckdb.connect()
    try:
        con.register("now_keys", keys.cast(KEY_SCHEMA))
        con.register("before_keys", before.cast(KEY_SCHEMA))
        rows = con.sql(
            "SELECT account_id FROM (SELECT * FROM now_keys EXCEPT SELECT * FROM before_keys) "
            "UNION SELECT account_id FROM before_keys "
            "WHERE account_id NOT IN (SELECT account_id FROM now_keys)").fetchall()
    finally:
        con.close()
    return {r[0] for r in rows}


def plan(previous: IdentityState | None, keys: pa.Table, definitions: IdentityDefinitions,
         *, full: bool = False) -> Plan:
    """Whether this resolution scores every pair or only the changed accounts'."""
    everyone = frozenset(keys["account_id"].to_pylist())
    if full:
        return Plan("full", everyone, "a full resolution was asked for")
    if previous is None:
        return Plan("full", everyone, "no earlier resolution to build on")
    if abs(previous.review_floor - definitions.review_floor) > 1e-12:
        return Plan("full", everyone, "identity.yml's review band or threshold changed")
    changed = changed_accounts(keys, previous.keys)
    drift = previous.changed_since_fit + len(changed)
    limit = REFIT_SHARE * max(previous.fitted_accounts, 1)
    if drift > limit:
        return Plan("full", everyone,
                    f"{drift:,} accounts changed since the model was fitted on "
                    f"{previous.fitted_accounts:,} (more than {REFIT_SHARE:.0%}): re-fitted")
    return Plan("incremental", frozenset(changed),
                f"{len(changed):,} changed accounts compared against their blocks "
                f"({drift:,} changed since the model was fitted on "
                f"{previous.fitted_accounts:,})")


def kept_pairs(previous: IdentityState, changed: frozenset[str]) -> pa.Table:
    """The state's scored pairs with neither account changed."""
    pairs = previous.pairs
    if not changed:
        return pairs
    gone = pa.array(sorted(changed), pa.string())
    touched = pc.or_(pc.is_in(pairs["left_account_id"], value_set=gone),
                     pc.is_in(pairs["right_account_id"], value_set=gone))
    return pairs.filter(pc.invert(touched))
