"""HubSpot records → contract rows, on the hand-written fixtures (values checked by hand)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from quarterdeck.sources.hubspot_connector import advance
from quarterdeck.sources.hubspot_mapping import (
    OBJECTS,
    HubSpotOptions,
    account_row,
    contact_row,
    embedded_company,
    epoch_millis,
    millis,
    opportunity_row,
    persona,
    primary_companies,
    search_request,
    timestamp,
    utc_date,
)

FIXTURES = Path(__file__).parent / "fixtures" / "hubspot"
DOC = Path(__file__).parents[2] / "docs" / "sources-hubspot.md"
OPTIONS = HubSpotOptions.model_validate({
    "segment_property": "customer_segment", "region_property": "sales_region",
    "external_id_properties": {"billing": "stripe_customer_id"}, "currency": "usd"})
OWNERS = {"71001": "dana.whitfield@quarterdeck.example",
          "71002": "ravi.menon@quarterdeck.example"}


def records(obj: str) -> dict[str, dict]:
    data = json.loads((FIXTURES / f"{obj}.json").read_text())
    return {r["id"]: r for r in data["results"]}


def crm(value):
    return None if value in (None, "") else f"crm:{value}"


def test_a_company_maps_every_contract_column():
    assert account_row(records("companies")["9001"], OPTIONS, OWNERS, crm) == {
        "account_id": "crm:9001",
        "name": "Acme Corporation",
        "domain": "acme.com",
        "parent_account_id": None,
        "segment": "Enterprise",
        "industry": "COMPUTER_SOFTWARE",
        "region": "NA",
        "country": "United States",
        "owner_email": "dana.whitfield@quarterdeck.example",
        "created_at": "2023-01-10T09:00:00+00:00",
        "external_ids": '{"billing": "cus_N1acme"}',
        "is_deleted": False,
    }


def test_a_child_company_points_at_its_parent_and_an_empty_external_id_is_left_out():
    row = account_row(records("companies")["9002"], OPTIONS, OWNERS, crm)
    assert row["parent_account_id"] == "crm:9001"
    assert (row["domain"], row["region"], row["external_ids"]) == ("acme.de", "EMEA", None)


def test_external_ids_are_trimmed_and_domains_lower_cased():
    row = account_row(records("companies")["9003"], OPTIONS, OWNERS, crm)
    assert row["external_ids"] == '{"billing": "cus_N3globex"}'
    assert row["domain"] == "globex.io"
    assert row["created_at"] == "2023-06-21T16:05:12+00:00"


def test_an_unnamed_company_is_named_by_its_domain_and_an_unknown_owner_has_no_email():
    row = account_row(records("companies")["9004"], OPTIONS, OWNERS, crm)
    assert (row["name"], row["domain"], row["owner_email"]) == ("initech.com", "initech.com",
                                                                 None)


def test_missing_values_stay_missing_and_archived_companies_say_so():
    companies = records("companies")
    row = account_row(companies["9005"], HubSpotOptions(), {}, crm)
    assert row["domain"] is None and row["country"] is None and row["owner_email"] is None
    assert row["segment"] is None and row["region"] is None and row["external_ids"] is None
    assert account_row(companies["9006"], OPTIONS, OWNERS, crm)["is_deleted"] is True


def test_a_contact_maps_with_its_primary_company_and_persona():
    contacts = records("contacts")
    assert embedded_company(contacts["5102"], "contacts") == "9002"  # not the unlabeled 9001
    assert contact_row(contacts["5101"], "9001", OPTIONS, crm) == {
        "contact_id": "crm:5101",
        "account_id": "crm:9001",
        "email": "wile.coyote@acme.com",
        "name": "Wile E. Coyote",
        "title": "VP Operations",
        "persona": "champion",
        "created_at": "2023-01-11T10:00:00+00:00",
        "is_deleted": False,
    }


def test_a_contact_without_a_company_is_skipped_and_an_archived_one_keeps_its_company():
    contacts = records("contacts")
    assert contact_row(contacts["5104"], None, OPTIONS, crm) is None
    archived = contact_row(contacts["5105"], None, OPTIONS, crm)  # associations are gone
    assert (archived["account_id"], archived["name"], archived["persona"],
            archived["is_deleted"]) == ("crm:9003", "Former", None, True)


@pytest.mark.parametrize("roles, expected", [
    ("END_USER;CHAMPION", "champion"), ("BUDGET_HOLDER", "decision_maker"),
    ("DECISION_MAKER;END_USER", "decision_maker"), ("END_USER", "user"),
    ("INFLUENCER;BLOCKER", None), (None, None), ("", None),
])
def test_the_persona_is_the_strongest_buying_role(roles, expected):
    assert persona(roles) == expected


def test_deals_map_kind_amount_currency_stage_and_outcome():
    deals = records("deals")
    renewal = opportunity_row(deals["7201"], embedded_company(deals["7201"], "deals"),
                              OPTIONS, crm)
    assert renewal == {
        "opportunity_id": "crm:7201",
        "account_id": "crm:9001",
        "kind": "renewal",
        "amount_arr": Decimal("120000"),
        "currency": "USD",
        "stage": "contractsent",
        "close_date": "2024-09-30",
        "outcome": "open",
        "is_deleted": False,
    }
    won = opportunity_row(deals["7202"], "9002", OPTIONS, crm)
    assert (won["kind"], won["amount_arr"], won["currency"], won["outcome"]) == (
        "expansion", Decimal("24000.50"), "EUR", "won")
    lost = opportunity_row(deals["7203"], "9003", OPTIONS, crm)
    # no deal_currency_code: the portal's currency option
    assert (lost["kind"], lost["currency"], lost["outcome"]) == ("new", "USD", "lost")


def test_a_deal_with_only_an_unlabeled_company_uses_it_and_one_without_is_skipped():
    deals = records("deals")
    assert embedded_company(deals["7204"], "deals") == "9005"
    assert opportunity_row(deals["7204"], "9005", OPTIONS, crm)["amount_arr"] is None
    assert embedded_company(deals["7206"], "deals") is None
    assert opportunity_row(deals["7206"], None, OPTIONS, crm) is None


def test_an_unmapped_deal_type_stays_visible_unless_mapped_or_defaulted():
    downgrade = records("deals")["7205"]
    assert opportunity_row(downgrade, "9001", OPTIONS, crm)["kind"] == "downgrade"
    mapped = HubSpotOptions(kind_map={"downgrade": "renewal"})
    assert opportunity_row(downgrade, "9001", mapped, crm)["kind"] == "renewal"
    props = {**downgrade["properties"], "dealtype": None}
    defaulted = HubSpotOptions(default_kind="renewal")
    assert opportunity_row({**downgrade, "properties": props}, "9001", defaulted,
                           crm)["kind"] == "renewal"


def test_arr_and_kind_can_come_from_other_properties():
    opts = HubSpotOptions(arr_property="hs_arr", kind_property="deal_motion")
    record = {"id": "1", "properties": {"hs_arr": "50000.5", "deal_motion": "newbusiness",
                                        "amount": "1"}}
    row = opportunity_row(record, "9", opts, crm)
    assert (row["amount_arr"], row["kind"]) == (Decimal("50000.5"), "new")
    assert {"hs_arr", "deal_motion"} <= set(OBJECTS["deals"].properties(opts))


def test_v4_associations_prefer_the_primary_company():
    batch = {"status": "COMPLETE", "results": [
        {"from": {"id": "7301"}, "to": [
            {"toObjectId": 9002, "associationTypes": [
                {"category": "HUBSPOT_DEFINED", "typeId": 341, "label": None}]},
            {"toObjectId": 9001, "associationTypes": [
                {"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"},
                {"category": "HUBSPOT_DEFINED", "typeId": 341, "label": None}]}]},
        {"from": {"id": "7302"}, "to": [
            {"toObjectId": 9003, "associationTypes": [
                {"category": "USER_DEFINED", "typeId": 5, "label": "Reseller"}]}]},
        {"from": {"id": "7303"}, "to": []}]}
    assert primary_companies(batch, "deals") == {"7301": "9001", "7302": "9003"}


def test_times_are_utc_and_search_values_are_epoch_milliseconds():
    assert timestamp("2024-05-01T10:00:00.000+02:00") == "2024-05-01T08:00:00+00:00"
    assert timestamp("1714550400000") == "2024-05-01T08:00:00+00:00"
    assert millis("2024-05-01T08:00:00.123456+00:00") == "2024-05-01T08:00:00.123Z"
    assert epoch_millis("2024-05-01T08:00:00.123Z") == "1714550400123"
    assert utc_date("2024-09-30T00:00:00Z") == "2024-09-30"


def test_the_search_asks_for_changes_after_the_cursor_oldest_first():
    contacts = OBJECTS["contacts"]
    body = search_request(contacts, OPTIONS, {"modified": "2024-05-01T08:00:00.000Z",
                                              "ids": []}, 100)
    assert body["filterGroups"] == [{"filters": [
        {"propertyName": "lastmodifieddate", "operator": "GT", "value": "1714550400000"}]}]
    assert body["sorts"] == [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}]
    assert body["limit"] == 100 and "associatedcompanyid" in body["properties"]
    again = search_request(OBJECTS["companies"], OPTIONS,
                           {"modified": "2024-05-01T08:00:00.000Z", "ids": ["9001"]}, 100)
    assert again["filterGroups"][0]["filters"][0] == {
        "propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": "1714550400000"}
    tie = search_request(OBJECTS["companies"], OPTIONS,
                         {"modified": "2024-05-01T08:00:00.000Z", "tie_after": "9001"}, 100)
    assert tie["filterGroups"][0]["filters"] == [
        {"propertyName": "hs_lastmodifieddate", "operator": "EQ", "value": "1714550400000"},
        {"propertyName": "hs_object_id", "operator": "GT", "value": "9001"}]
    assert tie["sorts"] == [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]


def test_a_tampered_tie_cursor_is_refused():
    with pytest.raises(ValueError):
        search_request(OBJECTS["companies"], OPTIONS,
                       {"modified": "2024-05-01T08:00:00.000Z", "tie_after": "1 OR 1"}, 10)


def _rec(rid: str, modified: str) -> dict:
    return {"id": rid, "properties": {"hs_lastmodifieddate": modified}}


def test_the_cursor_skips_records_read_at_its_millisecond_and_keeps_ties():
    companies = OBJECTS["companies"]
    t, u = "2024-05-01T08:00:00.000Z", "2024-05-02T08:00:00.000Z"
    fresh, cursor = advance(companies, {"modified": t, "ids": ["1"]},
                            [_rec("1", t), _rec("2", t), _rec("3", u)], more=True)
    assert [r["id"] for r in fresh] == ["2", "3"]
    assert cursor == {"modified": u, "ids": ["3"]}
    fresh, cursor = advance(companies, {"modified": t, "ids": ["1"]},
                            [_rec("1", t), _rec("2", t)], more=False)
    assert cursor == {"modified": t, "ids": ["1", "2"]}


def test_a_millisecond_fuller_than_a_page_is_read_alone_in_id_order():
    companies = OBJECTS["companies"]
    t = "2024-05-01T08:00:00.000Z"
    _, cursor = advance(companies, {"modified": t, "ids": ["5"]},
                        [_rec("9", t), _rec("5", t)], more=True)
    assert cursor == {"modified": t, "tie_after": None}
    _, cursor = advance(companies, cursor, [_rec("1", t), _rec("5", t)], more=True)
    assert cursor == {"modified": t, "tie_after": "5"}
    _, cursor = advance(companies, cursor, [_rec("9", t)], more=False)
    assert cursor == {"modified": t, "ids": []}  # then: after t


@pytest.mark.parametrize("options, message", [
    ({"segment_property": "Customer Segment"}, "internal name"),
    ({"external_id_properties": {"Billing System": "stripe_id"}}, "not a source name"),
    ({"external_id_properties": {"billing": "Stripe-Id"}}, "internal name"),
    ({"currency": "dollars"}, "not an ISO 4217 code"),
    ({"kind_map": {"renewal": "upsell"}}, "renewal"),
    ({"shared_id_property": "stripe_id"}, "Extra inputs"),
])
def test_options_are_checked(options, message):
    with pytest.raises(ValidationError, match=message):
        HubSpotOptions.model_validate(options)


def test_the_docs_example_is_valid_and_every_option_is_documented():
    import yaml

    from quarterdeck.sources.config import SourcesConfig

    text = DOC.read_text()
    example = yaml.safe_load(text.split("```yaml\n")[1].split("```")[0])
    source = SourcesConfig.model_validate(example).sources["crm"]
    HubSpotOptions.model_validate(source.options)
    for name in HubSpotOptions.model_fields:
        assert f"| `{name}` |" in text, f"docs/sources-hubspot.md does not document {name}"
