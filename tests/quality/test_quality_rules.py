"""Every accuracy rule kind, one by one, on hand-made worlds whose counts are checked by eye."""

from __future__ import annotations

from typing import Any

from quarterdeck.quality.accuracy_rules import RULE_BUILDERS
from quarterdeck.quality.definitions import RULE_KINDS
from quarterdeck.quality.report import QualityReport
from quarterdeck.testing.quality_worlds import check_world, finding, team
from quarterdeck.testing.worlds import World, world


def _rule(data: World, **rule: Any) -> tuple[QualityReport, Any]:
    report = check_world(data, definitions={"rules": [rule]})
    name = rule.get("name")
    return report, finding(report, check="accuracy", **({"rule": name} if name else {}))


def _accounts(*rows: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": r["account_id"].title(), **r} for r in rows]


def test_every_rule_kind_has_a_builder():
    assert set(RULE_BUILDERS) == set(RULE_KINDS)


def test_not_null_fails_the_rows_without_a_value():
    data = world(contacts=[
        {"contact_id": "c1", "account_id": "a", "email": "x@a.com"},
        {"contact_id": "c2", "account_id": "a"},
        {"contact_id": "c3", "account_id": "a", "email": "y@a.com"},
    ])
    _, row = _rule(data, kind="not_null", entity="contacts", field="email")
    assert (row.passed, row.failed, row.status, row.examples) == (2, 1, "error", ("c2",))
    assert row.rule == "not_null_email" and row.field == "email"


def test_date_order_fails_the_later_field_before_the_earlier_and_skips_empty_ones():
    data = world(invoices=[
        {"invoice_id": "i1", "account_id": "a", "issued_at": "2024-05-03T10:00:00",
         "paid_at": "2024-05-01T09:00:00", "amount": 10, "currency": "USD"},   # paid before
        {"invoice_id": "i2", "account_id": "a", "issued_at": "2024-05-03T10:00:00",
         "paid_at": "2024-05-03T10:00:00", "amount": 10, "currency": "USD"},   # same instant
        {"invoice_id": "i3", "account_id": "a", "issued_at": "2024-05-03T10:00:00",
         "amount": 10, "currency": "USD"},                                    # unpaid: not judged
    ])
    _, row = _rule(data, kind="date_order", entity="invoices", fields=["issued_at", "paid_at"])
    assert (row.passed, row.failed, row.examples) == (1, 1, ("i1",))
    _, strict = _rule(data, kind="date_order", entity="invoices", fields=["issued_at", "paid_at"],
                      strict=True)
    assert (strict.passed, strict.failed, strict.examples) == (0, 2, ("i1", "i2"))


def test_date_order_compares_a_date_with_a_timestamp():
    data = world(subscriptions=[
        {"subscription_id": "s1", "account_id": "a", "plan": "p", "quantity": 1,
         "unit_price": 1, "currency": "USD", "interval_months": 1, "start_date": "2024-03-01",
         "canceled_at": "2024-02-27T12:00:00"},
        {"subscription_id": "s2", "account_id": "a", "plan": "p", "quantity": 1,
         "unit_price": 1, "currency": "USD", "interval_months": 1, "start_date": "2024-03-01",
         "canceled_at": "2024-03-01T12:00:00"},
    ])
    _, row = _rule(data, kind="date_order", entity="subscriptions",
                   fields=["start_date", "canceled_at"], severity="warning")
    assert (row.passed, row.failed, row.status) == (1, 1, "warning")


def test_range_fails_values_outside_min_and_max_and_skips_empty_ones():
    subs = [{"subscription_id": f"s{m}", "account_id": "a", "plan": "p", "quantity": 1,
             "unit_price": 1, "currency": "USD", "interval_months": m, "start_date": "2024-01-01"}
            for m in (1, 12, 60, 120)]
    subs.append({**subs[0], "subscription_id": "s-none", "interval_months": None})
    _, row = _rule(world(subscriptions=subs), kind="range", entity="subscriptions",
                   field="interval_months", min=1, max=60)
    assert (row.passed, row.failed, row.examples) == (3, 1, ("s120",))
    _, floor = _rule(world(subscriptions=subs), kind="range", entity="subscriptions",
                     field="interval_months", min=13)
    assert (floor.passed, floor.failed) == (2, 2)


def test_email_fails_values_that_are_not_addresses():
    data = world(contacts=[
        {"contact_id": "c1", "account_id": "a", "email": "ana@acme.com"},
        {"contact_id": "c2", "account_id": "a", "email": "ana at acme"},
        {"contact_id": "c3", "account_id": "a", "email": "ana@acme"},
        {"contact_id": "c4", "account_id": "a"},
    ])
    _, row = _rule(data, kind="email", entity="contacts", field="email")
    assert (row.passed, row.failed, row.examples) == (1, 2, ("c2", "c3"))


def test_one_of_fails_values_outside_the_list():
    data = world(accounts=_accounts(
        {"account_id": "a", "segment": "SMB"}, {"account_id": "b", "segment": "Enterprise"},
        {"account_id": "c", "segment": "Mid"}, {"account_id": "d"}))
    _, row = _rule(data, kind="one_of", entity="accounts", field="segment",
                   values=["SMB", "Enterprise"])
    assert (row.passed, row.failed, row.examples) == (2, 1, ("c",))


def test_references_fails_values_missing_from_the_target():
    data = world(team=team(), activities=[
        {"activity_id": "m1", "account_id": "a", "kind": "meeting",
         "occurred_at": "2024-06-01T10:00:00", "owner_email": "ana@example.com"},
        {"activity_id": "m2", "account_id": "a", "kind": "call",
         "occurred_at": "2024-06-02T10:00:00", "owner_email": "former@example.com"},
        {"activity_id": "m3", "account_id": "a", "kind": "note",
         "occurred_at": "2024-06-03T10:00:00"},
    ])
    _, row = _rule(data, kind="references", entity="activities", field="owner_email",
                   target="team.email")
    assert (row.passed, row.failed, row.examples) == (1, 1, ("m2",))


def test_has_owner_fails_accounts_without_an_owner_or_with_one_off_the_team():
    data = world(team=team(), accounts=_accounts(
        {"account_id": "a", "owner_email": "ana@example.com"},
        {"account_id": "b", "owner_email": "ben@example.com"},
        {"account_id": "c"},
        {"account_id": "d", "owner_email": "gone@example.com"}))
    _, row = _rule(data, kind="has_owner", entity="accounts", field="owner_email",
                   severity="warning")
    assert (row.passed, row.failed, row.status, row.examples) == (2, 2, "warning", ("c", "d"))


def test_unique_fails_every_row_sharing_a_value_and_skips_empty_ones():
    data = world(accounts=_accounts(
        {"account_id": "a", "domain": "acme.com", "region": "EU"},
        {"account_id": "b", "domain": "acme.com", "region": "US"},
        {"account_id": "c", "domain": "globex.com", "region": "EU"},
        {"account_id": "d", "region": "EU"}, {"account_id": "e", "region": "EU"}))
    _, row = _rule(data, kind="unique", entity="accounts", field="domain")
    assert (row.passed, row.failed, row.examples) == (1, 2, ("a", "b"))
    _, pair = _rule(data, kind="unique", entity="accounts", fields=["domain", "region"])
    assert (pair.passed, pair.failed, pair.field) == (3, 0, "domain, region")


def test_unique_is_judged_within_each_source():
    data = world(accounts=_accounts(
        {"account_id": "a", "domain": "acme.com"},
        {"account_id": "stripe:cus_1", "domain": "acme.com"},
        {"account_id": "stripe:cus_2", "domain": "acme.com"}))
    report = check_world(data, definitions={"rules": [
        {"kind": "unique", "entity": "accounts", "field": "domain"}]},
        sources={"sources": {"stripe": {"kind": "stripe"}}})
    files = finding(report, check="accuracy", source="files")
    stripe = finding(report, check="accuracy", source="stripe")
    assert (files.passed, files.failed) == (1, 0)
    assert (stripe.passed, stripe.failed) == (0, 2)


def test_a_failing_share_within_the_threshold_is_ok_and_says_so():
    data = world(accounts=_accounts({"account_id": "a", "segment": "SMB"},
                                    {"account_id": "b", "segment": "Mid"},
                                    {"account_id": "c", "segment": "SMB"}))
    _, row = _rule(data, kind="one_of", entity="accounts", field="segment", values=["SMB"],
                   threshold=0.5, name="known_segment")
    assert (row.failed, row.status, row.rule) == (1, "ok", "known_segment")
    assert row.share == 1 / 3
    assert "within the 50.0% allowed" in row.detail


def test_rows_are_counted_per_source_by_the_prefix_of_their_id():
    data = world(contacts=[
        {"contact_id": "c1", "account_id": "a"},
        {"contact_id": "crm:1", "account_id": "crm:9", "email": "x@a.com"},
        {"contact_id": "crm:2", "account_id": "crm:9"},
    ])
    report = check_world(data, definitions={"rules": [
        {"kind": "not_null", "entity": "contacts", "field": "email"}]},
        sources={"sources": {"crm": {"kind": "hubspot"}}})
    crm = finding(report, check="accuracy", source="crm")
    files = finding(report, check="accuracy", source="files")
    assert (crm.passed, crm.failed, crm.examples) == (1, 1, ("crm:2",))
    assert (files.passed, files.failed) == (0, 1)
    unconfigured = check_world(data, definitions={"rules": [
        {"kind": "not_null", "entity": "contacts", "field": "email"}]})
    assert finding(unconfigured, check="accuracy").failed == 2  # all from files
