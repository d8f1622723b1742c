"""Salesforce records → contract rows, on the hand-written fixtures (values checked by hand)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from quarterdeck.sources.salesforce_mapping import (
    SOBJECTS,
    SalesforceOptions,
    account_row,
    changes_query,
    contact_row,
    cursor_after,
    domain_of,
    opportunity_row,
    soql_datetime,
    timestamp,
)

FIXTURES = Path(__file__).parent / "fixtures" / "salesforce"
DOC = Path(__file__).parents[2] / "docs" / "sources-salesforce.md"
OPTIONS = SalesforceOptions.model_validate({
    "segment_field": "Segment__c", "region_field": "Region__c", "multi_currency": True,
    "external_id_fields": {"billing": "Stripe_Customer_Id__c"}})


def records(obj: str) -> dict[str, dict]:
    data = json.loads((FIXTURES / f"{obj}.json").read_text(), parse_float=Decimal)
    return {r["Id"]: r for r in data["records"]}


def crm(value):
    return None if value in (None, "") else f"crm:{value}"


def test_an_account_maps_every_contract_column():
    acme = records("Account")["001Hs00001AcmeQAAR"]
    assert account_row(acme, OPTIONS, crm) == {
        "account_id": "crm:001Hs00001AcmeQAAR",
        "name": "Acme Corporation",
        "domain": "acme.com",
        "parent_account_id": None,
        "segment": "Enterprise",
        "industry": "Technology",
        "region": "NA",
        "country": "United States",
        "owner_email": "dana.whitfield@quarterdeck.example",
        "created_at": "2023-01-10T09:00:00+00:00",
        "external_ids": '{"billing": "cus_N1acme"}',
        "is_deleted": False,
    }


def test_a_child_account_points_at_its_parent_and_has_no_external_id():
    row = account_row(records("Account")["001Hs00001AcmeRAAR"], OPTIONS, crm)
    assert row["parent_account_id"] == "crm:001Hs00001AcmeQAAR"
    assert row["domain"] == "acme.de" and row["region"] == "EMEA"
    assert row["external_ids"] is None


def test_external_ids_are_trimmed_and_deleted_accounts_say_so():
    accounts = records("Account")
    assert account_row(accounts["001Hs00001GlobQAAQ"], OPTIONS, crm)["external_ids"] == (
        '{"billing": "cus_N3globex"}')
    assert account_row(accounts["001Hs00001InitQAAY"], OPTIONS, crm)["is_deleted"] is True


def test_empty_values_are_missing_and_unconfigured_fields_stay_empty():
    umbrella = records("Account")["001Hs00001UmbrQAAS"]
    row = account_row(umbrella, SalesforceOptions(), crm)
    assert row["domain"] is None and row["industry"] is None and row["owner_email"] is None
    assert row["segment"] is None and row["region"] is None and row["external_ids"] is None


def test_a_custom_owner_lookup_reads_its_relationship():
    opts = SalesforceOptions(owner_field="CSM__c")
    assert opts.owner_relationship == "CSM__r"
    record = {"Id": "001A", "Name": "A", "CSM__r": {"Email": "csm@q.example"}}
    assert account_row(record, opts, crm)["owner_email"] == "csm@q.example"
    assert "CSM__r.Email" in SOBJECTS["Account"].fields(opts)


@pytest.mark.parametrize("website, domain", [
    ("https://www.acme.com/", "acme.com"),
    ("http://Globex.io/about", "globex.io"),
    ("acme.de", "acme.de"),
    ("www.initech.co.uk:8443/x", "initech.co.uk"),
    ("", None), (None, None), ("n/a", None),
])
def test_the_domain_comes_from_the_website(website, domain):
    assert domain_of(website) == domain


def test_a_contact_maps_and_a_private_contact_is_skipped():
    contacts = records("Contact")
    assert contact_row(contacts["003Hs00000WileQAAS"], OPTIONS, crm) == {
        "contact_id": "crm:003Hs00000WileQAAS",
        "account_id": "crm:001Hs00001AcmeQAAR",
        "email": "wile.coyote@acme.com",
        "name": "Wile E. Coyote",
        "title": "VP Operations",
        "created_at": "2023-01-11T10:00:00+00:00",
        "is_deleted": False,
    }
    assert contact_row(contacts["003Hs00000PrivQAAS"], OPTIONS, crm) is None


def test_opportunities_map_kind_amount_currency_and_outcome():
    opps = records("Opportunity")
    renewal = opportunity_row(opps["006Hs00000RenwQAAS"], OPTIONS, crm)
    assert renewal == {
        "opportunity_id": "crm:006Hs00000RenwQAAS",
        "account_id": "crm:001Hs00001AcmeQAAR",
        "kind": "renewal",
        "amount_arr": Decimal("120000.0"),
        "currency": "USD",
        "stage": "Negotiation/Review",
        "close_date": "2024-09-30",
        "outcome": "open",
        "is_deleted": False,
    }
    upgrade = opportunity_row(opps["006Hs00000UpgrQAAS"], OPTIONS, crm)
    assert (upgrade["kind"], upgrade["amount_arr"], upgrade["currency"], upgrade["outcome"]) == (
        "expansion", Decimal("24000.5"), "EUR", "won")
    lost = opportunity_row(opps["006Hs00000NewbQAAS"], OPTIONS, crm)
    assert (lost["kind"], lost["amount_arr"], lost["outcome"]) == ("new", Decimal("9600"), "lost")
    assert opportunity_row(opps["006Hs00000UmbrQAAS"], OPTIONS, crm)["amount_arr"] is None


def test_an_unmapped_type_stays_visible_unless_mapped_or_defaulted():
    downgrade = records("Opportunity")["006Hs00000DownQAAS"]
    assert opportunity_row(downgrade, OPTIONS, crm)["kind"] == "Existing Customer - Downgrade"
    mapped = SalesforceOptions(kind_map={"Existing Customer - Downgrade": "renewal"})
    assert opportunity_row(downgrade, mapped, crm)["kind"] == "renewal"
    defaulted = SalesforceOptions(default_kind="renewal")
    assert opportunity_row({**downgrade, "Type": None}, defaulted, crm)["kind"] == "renewal"


def test_a_single_currency_org_names_its_currency_and_can_read_arr_elsewhere():
    opts = SalesforceOptions(currency="eur", arr_field="ARR__c")
    record = {**records("Opportunity")["006Hs00000RenwQAAS"], "ARR__c": Decimal("100000")}
    row = opportunity_row(record, opts, crm)
    assert (row["currency"], row["amount_arr"]) == ("EUR", Decimal("100000"))
    fields = SOBJECTS["Opportunity"].fields(opts)
    assert "ARR__c" in fields and "Amount" not in fields and "CurrencyIsoCode" not in fields


def test_timestamps_are_utc_iso_and_soql_literals_keep_milliseconds():
    assert timestamp("2024-05-01T10:00:00.000+0200") == "2024-05-01T08:00:00+00:00"
    assert soql_datetime("2024-05-01T08:00:00.123+0000") == "2024-05-01T08:00:00.123Z"
    assert soql_datetime("2024-05-01T08:00:00.000Z") == "2024-05-01T08:00:00.000Z"


def test_the_first_query_reads_everything_and_later_ones_resume_after_the_cursor():
    account = SOBJECTS["Account"]
    first = changes_query(account, OPTIONS, None)
    assert first.startswith("SELECT Id, SystemModstamp, IsDeleted, Name, Website")
    assert "Owner.Email, Segment__c, Region__c, Stripe_Customer_Id__c FROM Account" in first
    assert first.endswith("FROM Account ORDER BY SystemModstamp, Id")
    cursor = cursor_after(records("Account")["001Hs00001AcmeQAAR"])
    assert cursor == {"system_modstamp": "2024-05-01T08:00:00.000Z", "id": "001Hs00001AcmeQAAR"}
    assert changes_query(account, OPTIONS, cursor).endswith(
        " WHERE SystemModstamp >= 2024-05-01T08:00:00.000Z AND (SystemModstamp > "
        "2024-05-01T08:00:00.000Z OR Id > '001Hs00001AcmeQAAR') ORDER BY SystemModstamp, Id")


def test_a_tampered_cursor_cannot_inject_soql():
    with pytest.raises(ValueError, match="not a Salesforce record id"):
        changes_query(SOBJECTS["Contact"], OPTIONS,
                      {"system_modstamp": "2024-05-01T08:00:00.000Z", "id": "x' OR Id != '"})


@pytest.mark.parametrize("options, message", [
    ({"segment_field": "Segment__c; DROP"}, "not a Salesforce field API name"),
    ({"owner_field": "Owner"}, "not a lookup field"),
    ({"external_id_fields": {"Billing System": "X__c"}}, "not a source name"),
    ({"currency": "dollars"}, "not an ISO 4217 code"),
    ({"multi_currency": True, "currency": "USD"}, "not both"),
    ({"kind_map": {"Renewal": "upsell"}}, "renewal"),
    ({"segment": "Segment__c"}, "Extra inputs"),
])
def test_options_are_checked(options, message):
    with pytest.raises(ValidationError, match=message):
        SalesforceOptions.model_validate(options)


def test_the_docs_example_is_valid_and_every_option_is_documented():
    import yaml

    from quarterdeck.sources.config import SourcesConfig

    text = DOC.read_text()
    example = yaml.safe_load(text.split("```yaml\n")[1].split("```")[0])
    source = SourcesConfig.model_validate(example).sources["crm"]
    SalesforceOptions.model_validate(source.options)
    for name in SalesforceOptions.model_fields:
        assert f"| `{name}` |" in text, f"docs/sources-salesforce.md does not document {name}"
