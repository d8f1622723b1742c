"""Duplicates as CRMs, billing systems and help desks really make them, with no domain shared,
and distinct companies that look alike: each class found, or kept apart."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
import pytest

from quarterdeck.identity import IdentityDefinitions, resolve_accounts
from quarterdeck.identity.account_keys import account_keys, deletions
from quarterdeck.identity.exact_keys import domain_pairs
from quarterdeck.identity.normalise import normalise_name
from quarterdeck.testing.identity_variants import (
    APART_CLASSES,
    SAME_CLASSES,
    SOURCE_KINDS,
    merged_pairs,
    score,
    true_pairs,
    variant_world,
)
from quarterdeck.testing.worlds import table_from_rows

MIN_RECALL = 0.85


@pytest.fixture(scope="module")
def world():
    return variant_world(400, seed=11, share=0.01, sparse=True)


@pytest.fixture(scope="module")
def scores(world):
    result = resolve_accounts(world.accounts, paying=(), definitions=IdentityDefinitions(),
                              source_kinds=SOURCE_KINDS, contact_domains=world.contacts)
    return score(world, merged_pairs(result.account_resolution)), result


@pytest.mark.parametrize("kind", SAME_CLASSES)
def test_each_kind_of_duplicate_is_merged(scores, kind):
    by_class, _ = scores
    assert by_class[kind].pairs >= 10
    assert by_class[kind].recall >= MIN_RECALL, by_class[kind]
    assert by_class[kind].false_merges == 0, by_class[kind]


@pytest.mark.parametrize("kind", APART_CLASSES)
def test_distinct_companies_that_look_alike_stay_apart(scores, kind):
    by_class, _ = scores
    assert by_class[kind].pairs >= 10
    assert by_class[kind].merged == 0, by_class[kind]


def test_nothing_merges_but_records_of_one_company(world, scores):
    _, result = scores
    assert merged_pairs(result.account_resolution) <= true_pairs(world)


@pytest.mark.parametrize(("raw", "expected"), [
    ("Acme Intl Tech Svcs", "acme international technology services"),
    ("ACME INTERNATIONAL TECHNOLOGIES SERVICES, LLC", "acme international technology services"),
    ("Smith & Jones Mfg. Co.", "smith and jones manufacturing"),
    ("Acme Sp. z o.o.", "acme"),
    ("Acme S.A. de C.V.", "acme"),
    ("Acme Pvt. Ltd.", "acme"),
    ("Acme Sdn. Bhd.", "acme"),
    ("Acme UK", "acme uk"),  # a country is part of the name, not a legal form
])
def test_abbreviations_are_written_out_and_every_countrys_legal_forms_dropped(raw, expected):
    assert normalise_name(raw) == expected


def test_one_letter_deleted_forms_bring_typos_and_swapped_letters_together():
    assert set(deletions("acme")) & set(deletions("acne"))      # a letter replaced
    assert set(deletions("acme")) & set(deletions("amce"))      # two letters swapped
    assert "acme" in set(deletions("acmee"))                    # a letter doubled
    assert deletions("abc") is None


def test_sister_companies_on_one_domain_are_not_merged_by_the_domain_alone():
    ids = ["a", "b", "c"]
    pairs = domain_pairs(ids, ["globex.com"] * 3, ["globex retail", "globex logistics",
                                                   "globex retail"])
    assert [(p.left, p.right) for p in pairs] == [("a", "c")]


def test_contacts_email_domains_are_keys_of_the_account():
    accounts = table_from_rows("accounts", [
        {"account_id": "a", "name": "Acme", "domain": "acme.com"},
        {"account_id": "desk:1", "name": "Acme"}])
    keys = account_keys(accounts, {"desk:1": ["help@support.acme.com", "jo@gmail.com"]})
    assert keys["contact_domains"].to_pylist() == [None, ["acme.com"]]
    assert keys["email_domains"].to_pylist() == [["acme.com"], ["acme.com"]]


# A second system's records as the data contract delivers them: a name and a region, no
# domain, another owner, among 200 accounts of other companies (below the size where u is
# sampled); the names differ in case, "&", legal form, "The" and abbreviations.
SECOND_SYSTEM = [
    ("quill", "Quillfeather Robotics", "quillfeather.io", "desk:1", "QUILLFEATHER ROBOTICS"),
    ("hale", "Hale and Moreno Consulting", "halemoreno.com", "desk:2",
     "Hale & Moreno Consulting"),
    ("ombre", "Ombrelune Textiles", "ombrelune.fr", "desk:3", "Ombrelune Textiles S.A.R.L."),
    ("vant", "Vantorel Logistics", "vantorel.com", "desk:4", "The Vantorel Logistics"),
    ("bris", "Brisquell International Technology Services", "brisquell.com", "desk:6",
     "Brisquell Intl Tech Svcs"),
    ("zant", "Zantorix Analytics", "zantorix.com", "desk:5", "zantorix analytics"),
]


@pytest.fixture(scope="module")
def second_system():
    base = variant_world(300, seed=5).accounts
    base = base.filter(pa.compute.starts_with(base["account_id"], "acct-"))
    rows = base.to_pylist()
    for original, name, domain, copy, copy_name in SECOND_SYSTEM:
        rows.append({"account_id": original, "name": name, "domain": domain, "country": "US",
                     "region": "NA", "owner_email": "ann@vendor.example"})
        rows.append({"account_id": copy, "name": copy_name, "region": "NA",
                     "owner_email": "bob@vendor.example"})
    # A different company one letter away, on its own domain.
    rows.append({"account_id": "zant-2", "name": "Zantorix Analytica", "region": "NA",
                 "domain": "zantorixanalytica.com", "country": "US"})
    accounts = pa.Table.from_pylist(rows, schema=base.schema)
    return resolve_accounts(accounts, paying=(), definitions=IdentityDefinitions(),
                            source_kinds=SOURCE_KINDS)


@pytest.mark.parametrize(("original", "copy"),
                         [(o, c) for o, _, _, c, _ in SECOND_SYSTEM if o != "zant"])
def test_a_distinctive_name_with_only_the_region_agreeing_merges(second_system, original,
                                                                 copy):
    customers = dict(zip(second_system.account_resolution["account_id"].to_pylist(),
                         second_system.account_resolution["customer_id"].to_pylist(),
                         strict=True))
    assert customers[copy] == customers[original]


def test_a_record_without_a_domain_never_chains_two_companies_on_different_domains(
        second_system):
    customers = dict(zip(second_system.account_resolution["account_id"].to_pylist(),
                         second_system.account_resolution["customer_id"].to_pylist(),
                         strict=True))
    assert customers["zant-2"] != customers["zant"]
