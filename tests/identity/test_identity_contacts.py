"""Contacts' and users' email domains are read where they live and count as evidence."""

from __future__ import annotations

import ibis
import pyarrow as pa

from quarterdeck.identity import IdentityDefinitions, resolve_accounts
from quarterdeck.identity.warehouse_tables import contact_domains
from quarterdeck.testing.worlds import table_from_rows


def test_email_domains_of_contacts_and_users_are_gathered_per_account():
    con = ibis.duckdb.connect()
    con.create_table("contacts", pa.table({
        "account_id": ["a", "a", "b"],
        "email": ["Jo@Acme.com", "max@acme.com", None]}))
    con.create_table("users", pa.table({
        "account_id": ["a", "c"], "email": ["ops@eu.acme.com", "not an email"]}))
    assert contact_domains(con) == {"a": {"acme.com", "eu.acme.com"}}


def test_no_contact_tables_means_no_contact_domains():
    assert contact_domains(ibis.duckdb.connect()) == {}


def test_a_help_desk_records_requesters_at_the_companys_domain_are_evidence_of_a_match():
    accounts = table_from_rows("accounts", [
        {"account_id": "a", "name": "Quillfeather Robotics", "domain": "quillfeather.io",
         "country": "US"},
        {"account_id": "desk:9", "name": "Quilfeather Robotcs", "country": "US"},
        {"account_id": "b", "name": "Ombrelune Textiles", "domain": "ombrelune.fr",
         "country": "FR"}])
    result = resolve_accounts(accounts, paying=(), definitions=IdentityDefinitions(),
                              source_kinds={"desk": "zendesk"},
                              contact_domains={"desk:9": ["help@quillfeather.io"]})
    customers = dict(zip(result.account_resolution["account_id"].to_pylist(),
                         result.account_resolution["customer_id"].to_pylist(), strict=True))
    assert customers["desk:9"] == customers["a"] != customers["b"]
    evidence = result.account_matches["evidence"].to_pylist()
    assert any("contacts share a domain" in e for e in evidence)
