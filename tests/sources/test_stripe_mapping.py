"""Stripe objects → contract rows, on fixtures written from Stripe's API reference (2025-03-31)."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from quarterdeck.sources import stripe_mapping as m

FIXTURES = Path(__file__).parent / "fixtures" / "stripe"


def ids(value):
    return None if value is None else f"stripe:{value}"


def fixture(name: str) -> dict[str, dict]:
    data = json.loads((FIXTURES / f"{name}.json").read_text())["data"]
    return {obj["id"]: obj for obj in data}


CUSTOMERS = fixture("customers")
SUBSCRIPTIONS = fixture("subscriptions")
INVOICES = fixture("invoices")


def rows_by_id(sub: dict) -> dict[str, dict]:
    return {r["subscription_id"]: r for r in m.subscription_rows(sub, ids)}


def test_amounts_are_in_major_units_of_their_currency():
    assert m.major_units(5000, "usd") == Decimal("50.00")
    assert m.major_units(3000, "jpy") == Decimal("3000")  # zero-decimal
    assert m.major_units(12340, "KWD") == Decimal("12.340")  # three decimals
    assert m.major_units("1999.5", "usd") == Decimal("19.995")  # unit_amount_decimal
    assert m.major_units(None, "usd") is None


def test_a_customer_is_an_account_with_prefixed_id_country_and_creation_time():
    row = m.account(CUSTOMERS["cus_N1acme"], ids, {"hubspot": "hubspot_company_id"})
    assert row == {"account_id": "stripe:cus_N1acme", "name": "Acme Analytics",
                   "domain": "acme-analytics.com", "country": "US",
                   "created_at": "2024-01-01T01:00:00Z", "external_ids": '{"hubspot":"5123"}'}


def test_a_nameless_customer_is_named_by_description_then_email_then_id():
    assert m.account(CUSTOMERS["cus_N2globex"], ids)["name"] == "Globex GmbH"
    assert m.account(CUSTOMERS["cus_N3initech"], ids)["name"] == "finance@initech.io"
    bare = {**CUSTOMERS["cus_N4umbrella"], "name": None, "email": None}
    assert m.account(bare, ids)["name"] == "cus_N4umbrella"


def test_the_domain_is_metadata_domain_else_the_email_domain_unless_free_mail():
    globex = m.account(CUSTOMERS["cus_N2globex"], ids)  # gmail address, metadata.domain
    assert globex["domain"] == "globex.de"
    no_meta = {**CUSTOMERS["cus_N2globex"], "metadata": {}}
    assert m.account(no_meta, ids)["domain"] is None
    # the country comes from the shipping address when there is no billing address
    assert m.account(CUSTOMERS["cus_N3initech"], ids)["country"] == "GB"


def test_only_configured_non_empty_metadata_keys_become_external_ids():
    hooli = m.account(CUSTOMERS["cus_N5hooli"], ids, {"hubspot": "hubspot_company_id"})
    assert hooli["external_ids"] is None  # the key is there but empty
    assert m.account(CUSTOMERS["cus_N1acme"], ids)["external_ids"] is None  # not configured


def test_a_trial_is_a_trial_row_then_the_paid_row_from_its_end():
    rows = rows_by_id(SUBSCRIPTIONS["sub_1A1acme"])
    assert set(rows) == {"stripe:si_A1pro:trial", "stripe:si_A1pro", "stripe:si_A1sso"}
    trial, paid = rows["stripe:si_A1pro:trial"], rows["stripe:si_A1pro"]
    assert (trial["start_date"], trial["end_date"], trial["trial"]) == (
        date(2024, 1, 1), date(2024, 1, 15), True)
    assert (paid["start_date"], paid["end_date"], paid["trial"]) == (
        date(2024, 1, 15), None, False)
    assert paid | {"subscription_id": None, "start_date": None} == {
        "subscription_id": None, "account_id": "stripe:cus_N1acme", "plan": "Pro",
        "quantity": Decimal(10), "unit_price": Decimal("50.00"), "discount": Decimal("0.2"),
        "currency": "USD", "interval_months": 1, "start_date": None, "end_date": None,
        "canceled_at": None, "contract_id": "stripe:sub_1A1acme", "auto_renew": True,
        "trial": False, "status": "active"}


def test_an_item_added_later_starts_that_day_and_stacks_item_then_subscription_discounts():
    sso = rows_by_id(SUBSCRIPTIONS["sub_1A1acme"])["stripe:si_A1sso"]
    assert sso["start_date"] == date(2024, 6, 10)  # after the trial: no trial row
    assert sso["plan"] == "sso_addon"  # no nickname: the lookup key
    assert sso["unit_price"] == Decimal("19.995")
    assert sso["discount"] == Decimal("0.28")  # 1 − (1 − 10%) × (1 − 20%)


def test_a_trialing_subscription_has_only_its_trial_row_until_it_converts():
    sub = SUBSCRIPTIONS["sub_1D4umbrella"]
    rows = rows_by_id(sub)
    assert list(rows) == ["stripe:si_D4quarterly:trial"]
    trial = rows["stripe:si_D4quarterly:trial"]
    assert (trial["unit_price"], trial["currency"], trial["interval_months"]) == (
        Decimal(30000), "JPY", 3)
    assert (trial["start_date"], trial["end_date"]) == (date(2024, 12, 1), date(2024, 12, 15))
    converted = {**sub, "status": "active"}
    paid = rows_by_id(converted)["stripe:si_D4quarterly"]
    assert (paid["start_date"], paid["end_date"], paid["trial"]) == (
        date(2024, 12, 15), None, False)


def test_cancel_at_period_end_ends_at_the_items_period_end_and_does_not_renew():
    row = rows_by_id(SUBSCRIPTIONS["sub_1B2globex"])["stripe:si_B2team"]
    assert (row["start_date"], row["end_date"]) == (date(2024, 2, 1), date(2025, 2, 1))
    assert row["canceled_at"] == "2024-11-20T16:00:00Z"
    assert row["auto_renew"] is False
    assert (row["unit_price"], row["currency"], row["interval_months"]) == (
        Decimal("1200.00"), "EUR", 12)
    assert row["discount"] == Decimal("0.1")  # 600 EUR off 5 × 1200 EUR


def test_a_canceled_subscription_ends_when_it_ended_and_a_once_coupon_is_no_discount():
    row = rows_by_id(SUBSCRIPTIONS["sub_1C3initech"])["stripe:si_C3starter"]
    assert (row["start_date"], row["end_date"]) == (date(2024, 3, 1), date(2024, 6, 30))
    assert row["canceled_at"] == "2024-06-01T00:00:00Z"
    assert row["discount"] == 0
    assert row["plan"] == "prod_Starter"  # neither nickname nor lookup key: the product


def test_weekly_prices_are_priced_per_month_and_metered_items_carry_no_quantity():
    rows = rows_by_id(SUBSCRIPTIONS["sub_1E5hooli"])
    biweekly = rows["stripe:si_E5biweekly"]
    assert biweekly["interval_months"] == 1
    assert biweekly["unit_price"] == Decimal("21.666667")  # 10.00 × 52 / 24
    metered = rows["stripe:si_E5api"]
    assert metered["quantity"] == 0 and metered["unit_price"] == Decimal("0.005")


def test_a_subscription_that_never_started_has_no_rows():
    assert m.subscription_rows(SUBSCRIPTIONS["sub_1F6hooli"], ids) == []


def test_a_subscription_amount_off_is_shared_by_its_items_in_proportion():
    sub = copy.deepcopy(SUBSCRIPTIONS["sub_1A1acme"])
    items = sub["items"]["data"]
    items[1]["discounts"] = []
    items[1]["price"]["unit_amount_decimal"] = "5000"  # 10 × 50 and 1 × 50
    sub["discounts"][0]["coupon"] = {"id": "C", "amount_off": 11000, "currency": "usd",
                                     "percent_off": None, "duration": "forever"}
    fractions = m.discount_fractions(sub, items)
    assert fractions == {"si_A1pro": Decimal("0.2"), "si_A1sso": Decimal("0.2")}  # 110 of 550


def test_a_subscription_canceled_during_its_trial_ends_the_trial_row_only():
    sub = {**SUBSCRIPTIONS["sub_1D4umbrella"], "status": "canceled",
           "canceled_at": 1733400000, "ended_at": 1733400000}  # 2024-12-05
    rows = rows_by_id(sub)
    assert list(rows) == ["stripe:si_D4quarterly:trial"]
    assert rows["stripe:si_D4quarterly:trial"]["end_date"] == date(2024, 12, 5)
    assert rows["stripe:si_D4quarterly:trial"]["canceled_at"] == "2024-12-05T12:00:00Z"


def test_service_ended_the_day_it_started_counts_for_that_day():
    sub = {**SUBSCRIPTIONS["sub_1E5hooli"], "status": "canceled",
           "canceled_at": 1733050000, "ended_at": 1733050000}  # 2024-12-01 10:46
    row = rows_by_id(sub)["stripe:si_E5biweekly"]
    assert (row["start_date"], row["end_date"]) == (date(2024, 12, 1), date(2024, 12, 2))


def test_items_taken_off_by_an_update_end_the_day_of_the_update():
    before = SUBSCRIPTIONS["sub_1A1acme"]
    after = copy.deepcopy(before)
    after["items"]["data"] = after["items"]["data"][:1]
    rows = m.removed_item_rows(after, before["items"]["data"], 1734566400, ids)  # 12-19
    assert [r["subscription_id"] for r in rows] == ["stripe:si_A1sso"]
    assert rows[0]["end_date"] == date(2024, 12, 19)
    assert rows[0]["canceled_at"] == "2024-12-19T00:00:00Z"
    assert rows[0]["discount"] == Decimal("0.28")


def test_shapes_of_older_api_versions_are_read_too():
    old = copy.deepcopy(SUBSCRIPTIONS["sub_1B2globex"])
    item = old["items"]["data"][0]
    old["current_period_end"] = item.pop("current_period_end")  # before 2025-03-31
    coupon = item.pop("discounts")[0]["coupon"]
    del old["discounts"]
    old["discount"] = {"id": "di_x", "object": "discount", "coupon": coupon}
    row = rows_by_id(old)["stripe:si_B2team"]
    assert row["end_date"] == date(2025, 2, 1)  # the subscription's period end
    assert row["discount"] == Decimal("0.1")  # the single `discount` with its coupon
    # since 2025-09-30 a discount's coupon sits under `source`
    new = copy.deepcopy(SUBSCRIPTIONS["sub_1A1acme"])
    new["discounts"][0]["source"] = {"type": "coupon",
                                     "coupon": new["discounts"][0].pop("coupon")}
    assert rows_by_id(new)["stripe:si_A1pro"]["discount"] == Decimal("0.2")


def test_a_subscription_naming_discounts_by_id_needs_expanding():
    sub = copy.deepcopy(SUBSCRIPTIONS["sub_1A1acme"])
    assert not m.needs_expansion(sub)
    sub["items"]["data"][1]["discounts"] = ["di_A1sso10"]
    assert m.needs_expansion(sub)
    assert not m.needs_expansion(SUBSCRIPTIONS["sub_1E5hooli"])  # no discounts at all


@pytest.mark.parametrize(("invoice_id", "expected"), [
    ("in_1Ga1acme", {"issued_at": "2024-12-15T02:00:00Z", "due_at": None,
                     "paid_at": "2024-12-15T02:01:40Z", "amount": Decimal("400.00"),
                     "currency": "USD", "status": "paid"}),
    ("in_1Gb2globex", {"issued_at": "2024-02-01T02:00:00Z", "due_at": "2024-03-02T02:00:00Z",
                       "paid_at": None, "amount": Decimal("5400.00"), "currency": "EUR",
                       "status": "open"}),
    ("in_1Gd4umbrella", {"issued_at": "2024-12-01T01:00:00Z", "due_at": None,
                         "paid_at": "2024-12-01T01:00:00Z", "amount": Decimal(0),
                         "currency": "JPY", "status": "paid"}),
    # a draft is not finalized yet: issued when created
    ("in_1Ge5hooli", {"issued_at": "2024-12-01T00:11:40Z", "due_at": None, "paid_at": None,
                      "amount": Decimal("10.00"), "currency": "USD", "status": "draft"}),
])
def test_an_invoice_is_issued_when_finalized_and_paid_when_its_status_says(invoice_id,
                                                                            expected):
    row = m.invoice(INVOICES[invoice_id], ids)
    assert row["invoice_id"] == f"stripe:{invoice_id}"
    assert {k: row[k] for k in expected} == expected


def test_a_deleted_draft_invoice_has_status_deleted():
    assert m.invoice(INVOICES["in_1Ge5hooli"], ids, deleted=True)["status"] == "deleted"
