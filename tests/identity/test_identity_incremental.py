"""Incremental identity resolution: after the first resolution, a load that changed a few
accounts scores only the pairs with those accounts, and finds what a full scoring with the
same model finds; it re-fits the model when the book has drifted or the settings changed."""

from __future__ import annotations

import dataclasses

import ibis
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from quarterdeck.identity import IdentityDefinitions, resolve_accounts, resolve_identities
from quarterdeck.identity.account_keys import account_keys
from quarterdeck.identity.incremental import (
    PAIRS_SCHEMA,
    REFIT_SHARE,
    IdentityState,
    changed_accounts,
    plan,
)
from quarterdeck.testing.identity_variants import SOURCE_KINDS, merged_pairs, variant_world

DEFINITIONS = IdentityDefinitions()


@pytest.fixture(scope="module")
def world():
    # Over 1,000 accounts, so the model's u is sampled from the accounts, not the priors.
    return variant_world(1100, seed=5, share=0.01)


def _without(table: pa.Table, ids: set[str]) -> pa.Table:
    return table.filter(pc.invert(pc.is_in(table["account_id"],
                                           value_set=pa.array(sorted(ids)))))


def _renamed(table: pa.Table, account: str, name: str) -> pa.Table:
    names = [name if a == account else n for a, n in
             zip(table["account_id"].to_pylist(), table["name"].to_pylist(), strict=True)]
    return table.set_column(table.column_names.index("name"), "name",
                            pa.array(names, pa.string()))


def _resolve(world, accounts, previous=None, full=False):
    return resolve_accounts(accounts, paying=(), definitions=DEFINITIONS,
                            source_kinds=SOURCE_KINDS, contact_domains=world.contacts,
                            previous=previous, full=full)


def _pinned_full(world, accounts, state: IdentityState):
    """A resolution that scores every pair, with `state`'s model instead of a new fit."""
    empty = state.keys.slice(0, 0)
    pinned = dataclasses.replace(state, keys=empty, pairs=PAIRS_SCHEMA.empty_table(),
                                 fitted_accounts=10**9, changed_since_fit=0)
    return _resolve(world, accounts, pinned)


@pytest.fixture(scope="module")
def later(world):
    """The first resolution on the book without its typo'd duplicates, one account since
    renamed and one since removed; then the book as it is now."""
    typos = {a for pair in world.same["typo"] for a in pair if ":typo-" in a}
    assert typos
    ids = world.accounts["account_id"].to_pylist()
    renamed, removed = ids[3], ids[7]
    before = _renamed(_without(world.accounts, typos), renamed, "Quillfeather Holdings")
    first = _resolve(world, before)
    now = _without(world.accounts, {removed})
    second = _resolve(world, now, first.state)
    return first, second, now, typos | {renamed, removed}


def test_the_first_resolution_fits_the_model_and_keeps_its_state(later):
    first, *_ = later
    assert first.plan.mode == "full"
    assert first.state.model.u is not None  # sampled: over 1,000 accounts
    assert first.state.changed_since_fit == 0
    assert first.state.fitted_accounts == first.accounts


def test_a_load_that_changed_a_few_accounts_scores_only_theirs(later):
    first, second, _now, touched = later
    assert second.plan.mode == "incremental"
    assert set(second.plan.changed) >= touched
    assert len(second.plan.changed) < 0.1 * second.accounts
    assert second.state.model == first.state.model
    assert second.state.changed_since_fit == len(second.plan.changed)
    assert "changed accounts compared against their blocks" in second.plan.reason


def test_the_typod_duplicates_loaded_later_are_found(world, later):
    _first, second, _now, _touched = later
    found = merged_pairs(second.account_resolution)
    assert len(world.same["typo"] & found) >= 0.85 * len(world.same["typo"])


def test_incremental_equals_a_full_scoring_with_the_same_model(world, later):
    first, second, now, _touched = later
    full = _pinned_full(world, now, first.state)
    assert full.plan.mode == "incremental" and len(full.plan.changed) == full.accounts
    assert second.state.pairs.equals(full.state.pairs)
    assert second.account_resolution.equals(full.account_resolution)
    assert second.account_matches.equals(full.account_matches)
    assert second.customer_accounts.equals(full.customer_accounts)


def test_nothing_changed_scores_nothing_and_writes_the_same(world, later):
    _first, second, now, _touched = later
    again = _resolve(world, now, second.state)
    assert again.plan.mode == "incremental" and not again.plan.changed
    assert again.state.pairs.equals(second.state.pairs)
    assert again.account_resolution.equals(second.account_resolution)
    assert again.customer_accounts.equals(second.customer_accounts)


def test_the_model_is_refitted_when_the_book_drifted_or_the_settings_changed(world, later):
    _first, second, now, _touched = later
    keys = account_keys(now.sort_by("account_id"), world.contacts)
    drifted = dataclasses.replace(
        second.state, changed_since_fit=int(REFIT_SHARE * second.state.fitted_accounts))
    moved = _renamed(now, now["account_id"][0].as_py(), "Zyxwv Unrelated")
    assert plan(drifted, account_keys(moved.sort_by("account_id"), world.contacts),
                DEFINITIONS).mode == "full"
    wider = IdentityDefinitions(review_band=0.5)
    assert "review band" in plan(second.state, keys, wider).reason
    assert plan(second.state, keys, DEFINITIONS, full=True).mode == "full"
    assert plan(None, keys, DEFINITIONS).mode == "full"


def test_keys_moved_by_other_accounts_count_as_changed():
    # A contact domain that many accounts come to share stops identifying anyone: a0's keys
    # change although its own row and contacts did not.
    accounts = pa.table({"account_id": [f"a{i}" for i in range(25)],
                         "name": [f"Company {i}" for i in range(25)]})
    few = {"a0": ["x@agency.com"]}
    many = {f"a{i}": ["x@agency.com"] for i in range(25)}
    before, after = account_keys(accounts, few), account_keys(accounts, many)
    assert before["contact_domains"][0].as_py() == ["agency.com"]
    assert changed_accounts(after, before) == {"a0"}
    assert changed_accounts(before, before) == set()
    assert changed_accounts(before.slice(1), before) == {"a0"}


def test_the_state_is_kept_in_the_warehouse_and_used_by_the_next_resolution(world):
    con = ibis.duckdb.connect()
    accounts = world.accounts.drop_columns(
        [c for c in world.accounts.column_names if c not in ("account_id", "name", "domain",
                                                             "country", "created_at")])
    con.create_table("accounts", accounts.slice(0, 300))
    first = resolve_identities(con, DEFINITIONS, SOURCE_KINDS)
    assert first.plan.mode == "full"
    assert "identity_state_keys" in con.list_tables()
    con.create_table("accounts", accounts.slice(0, 305), overwrite=True)
    second = resolve_identities(con, DEFINITIONS, SOURCE_KINDS)
    assert second.plan.mode == "incremental"
    assert len(second.plan.changed) >= 5
    kept = con.to_pyarrow(con.table("account_resolution")).sort_by("account_id")
    assert kept.equals(second.account_resolution.sort_by("account_id"))
    third = resolve_identities(con, DEFINITIONS, SOURCE_KINDS, full=True)
    assert third.plan.mode == "full" and third.state.changed_since_fit == 0
