"""Signals fire exactly where the book world's situations say, with their evidence."""

from __future__ import annotations

from quarterdeck.signals.evaluation import evidence_values

EXPECTED = {
    ("renewal_at_risk", "red-renewal"), ("invoice_overdue", "steady"),
    ("ticket_surge", "steady"), ("usage_drop", "steady"), ("qbr_missing", "enterprise"),
    ("champion_left", "enterprise"), ("seats_full", "young"),
}


def _fired(book_day) -> dict[tuple[str, str], dict]:
    con, day = book_day
    return {(r["signal"], r["account_id"]): r for r in con.to_pyarrow(day.fired).to_pylist()}


def test_each_signal_fires_for_the_accounts_whose_condition_holds(book_day) -> None:
    assert set(_fired(book_day)) == EXPECTED


def test_an_alert_carries_the_values_that_fired_it(book_day) -> None:
    fired = _fired(book_day)
    usage = evidence_values(fired[("usage_drop", "steady")]["evidence"])
    assert usage["active_users_trend_30d"] == -0.6
    assert usage["status"] == "active"
    overdue = evidence_values(fired[("invoice_overdue", "steady")]["evidence"])
    assert overdue["days_invoice_overdue"] == 29
    qbr = evidence_values(fired[("qbr_missing", "enterprise")]["evidence"])
    assert qbr == {"status": "active", "segment": "Enterprise",
                   "days_since_last_qbr_or_start": 166, "last_qbr_on": "2026-01-15",
                   "arr": 120000}


def test_owner_and_deduplication_key_follow_the_definition(book_day) -> None:
    fired = _fired(book_day)
    renewal = fired[("renewal_at_risk", "red-renewal")]
    assert renewal["owner_email"] == "mo@example.com"  # owner_manager
    assert renewal["dedup_key"] == "renewal_at_risk:red-renewal:2026-09-01"
    assert renewal["severity"] == "critical"
    assert fired[("usage_drop", "steady")]["owner_email"] == "ana@example.com"
    assert fired[("usage_drop", "steady")]["dedup_key"] == "usage_drop:steady"


def test_evidence_is_valid_json_whatever_the_text_holds() -> None:
    import json

    import ibis

    from quarterdeck.signals.evaluation import _json_object

    t = ibis.memtable({"s": ['Acme "Gold" \\ tier', None]}, schema={"s": "string"})
    got = t.select(e=_json_object({"segment": t.s})).to_pyarrow()["e"].to_pylist()
    assert [json.loads(e) for e in got] == [{"segment": 'Acme "Gold" \\ tier'},
                                           {"segment": None}]


def test_an_alert_on_an_account_nobody_owns_goes_to_the_unowned_rule() -> None:
    from datetime import date

    import ibis

    from quarterdeck.signals.definitions import SignalDefinitions
    from quarterdeck.signals.evaluation import fired_signals

    facts = ibis.memtable({
        "as_of": [date(2026, 6, 30)] * 2, "account_id": ["owned", "orphan"],
        "status": ["active", "active"], "owner_email": ["ana@example.com", None],
        "owner_manager_email": ["mo@example.com", None]})
    team = ibis.memtable({"email": ["ana@example.com", "mo@example.com"],
                          "role": ["csm", "manager"]})
    signal = {"name": "any_active", "when": {"status": "active"}}
    owners = {}
    for unowned in ("role:manager", None):
        definitions = SignalDefinitions(unowned=unowned, signals=[signal])
        rows = fired_signals(facts, definitions, team=team).to_pyarrow().to_pylist()
        owners[unowned] = {r["account_id"]: r["owner_email"] for r in rows}
    assert owners["role:manager"] == {"owned": "ana@example.com", "orphan": "mo@example.com"}
    assert owners[None] == {"owned": "ana@example.com", "orphan": None}
