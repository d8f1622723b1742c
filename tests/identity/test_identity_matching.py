"""Matching the hand-made world: exact keys, probabilistic matches, the rules, overrides."""

from __future__ import annotations

import pyarrow as pa
import pytest
import yaml

from quarterdeck.identity import IdentityDefinitions, resolve_accounts
from quarterdeck.identity.clusters import Candidate, Rules, cluster
from quarterdeck.identity.exact_keys import domain_pairs, shared_id_pairs
from quarterdeck.testing.identity_world import (
    EXPECTED_CUSTOMERS,
    IDENTITY_YML,
    SOURCE_KINDS,
    identity_world,
)
from quarterdeck.testing.worlds import table_from_rows

PAYING = {"acme", "stripe:cus_7", "vandelay", "stripe:cus_v"}


def resolve(definitions: IdentityDefinitions | None = None, accounts: pa.Table | None = None):
    definitions = definitions or IdentityDefinitions.model_validate(yaml.safe_load(IDENTITY_YML))
    return resolve_accounts(identity_world()["accounts"] if accounts is None else accounts,
                            paying=PAYING, definitions=definitions, source_kinds=SOURCE_KINDS)


@pytest.fixture(scope="module")
def resolved():
    return resolve()


def customers(resolution) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for row in resolution.account_resolution.to_pylist():
        out.setdefault(row["customer_id"], set()).add(row["account_id"])
    return out


def decision(resolution, a: str, b: str) -> str:
    left, right = sorted((a, b))
    for row in resolution.account_matches.to_pylist():
        if (row["left_account_id"], row["right_account_id"]) == (left, right):
            return row["decision"]
    return "no pair"


def test_every_account_lands_in_its_expected_customer(resolved):
    assert customers(resolved) == EXPECTED_CUSTOMERS


def test_acme_spelled_three_ways_is_one_customer(resolved):
    rows = {r["account_id"]: r for r in resolved.account_resolution.to_pylist()}
    assert rows["acme"]["method"] == "self" and rows["acme"]["match_probability"] is None
    assert rows["crm:501"]["method"] == "domain"  # "https://www.acme.com/" is acme.com
    assert rows["zendesk:9"]["method"] == "probabilistic"  # the name "acme.io" is "acme"
    assert rows["zendesk:9"]["match_probability"] >= 0.9


def test_similar_names_of_different_companies_are_not_merged(resolved):
    assert decision(resolved, "northwind", "northwind-de") in ("review", "no pair")


def test_a_parent_is_never_merged_with_its_child_even_on_one_domain(resolved):
    assert decision(resolved, "globex", "globex-emea") == "rejected"
    row = next(r for r in resolved.account_matches.to_pylist()
               if r["right_account_id"] == "globex-emea")
    assert "same domain globex.com" in row["evidence"]
    assert "parent and child" in row["evidence"]


def test_a_shared_id_merges_accounts_with_nothing_else_in_common(resolved):
    assert decision(resolved, "crm:77", "stripe:cus_7") == "merged"


def test_a_confirmation_merges_accounts_without_evidence(resolved):
    assert decision(resolved, "umbrella", "zendesk:55") == "confirmed"


def test_a_split_wins_over_a_transitive_path(resolved):
    assert decision(resolved, "hooli", "hooli-xyz") == "split"
    # The help desk's HOOLI INC matches both; it may join only one of them.
    assert decision(resolved, "hooli", "zendesk:70") == "merged"
    assert decision(resolved, "hooli-xyz", "zendesk:70") == "split"


def test_two_paying_accounts_matched_only_by_probability_go_to_review(resolved):
    assert decision(resolved, "vandelay", "stripe:cus_v") == "review"
    merged = resolve(IdentityDefinitions.model_validate(
        {**yaml.safe_load(IDENTITY_YML), "merge_paying_accounts": True}))
    assert decision(merged, "vandelay", "stripe:cus_v") == "merged"


def test_pairs_say_which_fields_agreed(resolved):
    row = next(r for r in resolved.account_matches.to_pylist()
               if (r["left_account_id"], r["right_account_id"]) == ("acme", "zendesk:9"))
    assert row["evidence"].startswith("name exact (acme); same domain label")
    assert "country agrees (US)" in row["evidence"]


def test_without_overrides_the_confirmed_pair_stays_apart_and_the_split_pair_merges():
    plain = resolve(IdentityDefinitions())
    groups = customers(plain)
    assert {"umbrella"} in groups.values()
    assert any({"hooli", "hooli-xyz", "zendesk:70"} <= g for g in groups.values())


def test_overrides_naming_unknown_accounts_are_noted_and_ignored():
    result = resolve(IdentityDefinitions(confirm=[["acme", "nobody"]]))
    assert any("no account nobody" in n for n in result.notes)


def test_resolution_does_not_depend_on_row_order(resolved):
    shuffled = identity_world()["accounts"].take(pa.array(list(range(15, -1, -1))))
    again = resolve(accounts=shuffled)
    assert again.account_resolution.equals(resolved.account_resolution)
    assert again.account_matches.equals(resolved.account_matches)
    assert again.customer_accounts.equals(resolved.customer_accounts)


def test_shared_ids_link_accounts_naming_the_same_id_in_a_third_system():
    pairs = shared_id_pairs(["crm:1", "sf:2"], ['{"stripe": "cus_9"}', '{"stripe": "cus_9"}'],
                            {"crm", "sf", "stripe"})
    assert [(p.left, p.right, p.evidence) for p in pairs] == [
        ("crm:1", "sf:2", "shared id stripe:cus_9")]
    assert shared_id_pairs(["crm:1"], ["not json"], {"crm"}) == []


def test_a_domain_held_by_too_many_accounts_identifies_nobody():
    ids = [f"a{i}" for i in range(101)]
    assert domain_pairs(ids, ["host.com"] * 101) == []
    assert len(domain_pairs(ids[:3], ["acme.com"] * 3)) == 3


def test_siblings_are_kept_apart_unless_they_share_an_id():
    rules = Rules(threshold=0.9, parents={"b": "p", "c": "p"})
    by_domain = cluster(["p", "b", "c"], [Candidate("b", "c", "domain", 1.0, "same domain")],
                        rules)
    assert by_domain.pairs[0].decision == "rejected"
    by_id = cluster(["p", "b", "c"], [Candidate("b", "c", "shared_id", 1.0, "shared id")],
                    rules)
    assert by_id.pairs[0].decision == "merged"


def test_a_confirmation_may_merge_a_parent_and_child_but_not_a_split_pair():
    rules = Rules(threshold=0.9, parents={"c": "p"}, split=[("p", "x")])
    result = cluster(["p", "c", "x"], [Candidate("c", "p", "manual", 1.0, "confirmed"),
                                       Candidate("c", "x", "manual", 1.0, "confirmed")], rules)
    assert [p.decision for p in result.pairs] == ["confirmed", "split"]


def test_a_lone_account_resolves_to_itself():
    accounts = table_from_rows("accounts", [{"account_id": "solo", "name": "Solo Ltd"}])
    result = resolve_accounts(accounts, paying=(), definitions=IdentityDefinitions(),
                              source_kinds={})
    assert result.account_resolution.to_pylist() == [
        {"account_id": "solo", "customer_id": "solo", "source": "files", "method": "self",
         "match_probability": None}]
    assert result.account_matches.num_rows == 0
