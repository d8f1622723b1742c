"""One accounts row per customer: its id and each field from the source trusted for it."""

from __future__ import annotations

import json
from datetime import datetime

import yaml

from quarterdeck.identity import IdentityDefinitions, resolve_accounts
from quarterdeck.identity.source_priority import default_order, priority_order
from quarterdeck.identity.survivorship import Trust, customer_row
from quarterdeck.testing.identity_world import IDENTITY_YML, SOURCE_KINDS, identity_world
from quarterdeck.testing.worlds import table_from_rows


def rows_by_id(definitions: IdentityDefinitions) -> dict[str, dict]:
    result = resolve_accounts(identity_world()["accounts"], paying=(), definitions=definitions,
                              source_kinds=SOURCE_KINDS)
    return {r["account_id"]: r for r in result.customer_accounts.to_pylist()}


def test_default_trust_is_files_then_crm_then_billing_then_help_desk():
    assert default_order(SOURCE_KINDS) == ["files", "crm", "stripe", "zendesk"]
    assert priority_order(["zendesk"], SOURCE_KINDS) == ["zendesk", "files", "crm", "stripe"]


def test_each_field_comes_from_its_trusted_source():
    acme = rows_by_id(IdentityDefinitions.model_validate(yaml.safe_load(IDENTITY_YML)))["acme"]
    assert acme["name"] == "ACME Inc."             # files first
    assert acme["segment"] == "Enterprise"         # files first, though the CRM has one
    assert acme["owner_email"] == "bob@vendor.com"  # survivorship: owner_email from the CRM
    assert acme["created_at"] == datetime(2023, 1, 1)  # the earliest member's
    assert json.loads(acme["external_ids"]) == {"crm": "501", "zendesk": "9"}


def test_a_field_empty_in_the_trusted_source_falls_back_to_the_next():
    acme = rows_by_id(IdentityDefinitions(survivorship={"domain": ["zendesk", "crm"]}))["acme"]
    # zendesk:9 has no domain, so the CRM's (as loaded) wins over the file's.
    assert acme["domain"] == "https://www.acme.com/"


def test_the_customer_id_is_the_most_trusted_members_account_id():
    assert "crm:77" in rows_by_id(IdentityDefinitions())  # CRM over Stripe
    billing_first = rows_by_id(IdentityDefinitions(source_priority=["stripe"]))
    assert "stripe:cus_7" in billing_first and "crm:77" not in billing_first


def test_one_row_per_customer_with_the_accounts_columns():
    world = identity_world()["accounts"]
    result = resolve_accounts(world, paying=(), definitions=IdentityDefinitions.model_validate(
        yaml.safe_load(IDENTITY_YML)), source_kinds=SOURCE_KINDS)
    assert result.customer_accounts.schema.equals(world.schema)
    assert result.customers == len(set(result.account_resolution["customer_id"].to_pylist()))


def _members():
    return [
        {"account_id": "a", "name": "Old", "segment": None, "parent_account_id": None,
         "created_at": datetime(2023, 1, 1), "external_ids": None},
        {"account_id": "b", "name": "New", "segment": "SMB", "parent_account_id": "p2",
         "created_at": datetime(2024, 1, 1), "external_ids": None},
    ]


def test_between_accounts_of_one_source_the_oldest_wins_unless_told_newest():
    trust = Trust(["files"], {}, "oldest")
    row = customer_row(_members(), ["files", "files"], trust, lambda a: a, [])
    assert (row["account_id"], row["name"], row["segment"]) == ("a", "Old", "SMB")
    newest = customer_row(_members(), ["files", "files"], Trust(["files"], {}, "newest"),
                          lambda a: a, [])
    assert (newest["account_id"], newest["name"]) == ("a", "New")


def test_the_parent_is_named_by_its_customer_and_never_the_customer_itself():
    row = customer_row(_members(), ["files", "files"], Trust(["files"], {}, "oldest"),
                       {"p2": "parent"}.get, [])
    assert row["parent_account_id"] == "parent"
    itself = customer_row(_members(), ["files", "files"], Trust(["files"], {}, "oldest"),
                          lambda a: "a", [])
    assert itself["parent_account_id"] is None


def test_custom_attribute_columns_survive_too():
    accounts = table_from_rows("accounts", [
        {"account_id": "a", "name": "Acme", "domain": "acme.com", "tier_code": None},
        {"account_id": "crm:1", "name": "Acme", "domain": "acme.com", "tier_code": "T1"}])
    result = resolve_accounts(accounts, paying=(), definitions=IdentityDefinitions(),
                              source_kinds={"crm": "hubspot"})
    assert result.customer_accounts.to_pylist()[0]["tier_code"] == "T1"
