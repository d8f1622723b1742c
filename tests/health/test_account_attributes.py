"""Account attributes as features: read as known at each date, encoded robustly."""

from __future__ import annotations

from datetime import date

import ibis
import pyarrow as pa
from health_worlds import account, sub

from quarterdeck.health.account_attributes import ACCOUNT_VERSIONS, candidate_attributes
from quarterdeck.health.attribute_encoding import OTHER, choose_encodings
from quarterdeck.health.feature_table import feature_table, feature_table_at
from quarterdeck.testing.worlds import table_from_rows, world

T = date(2024, 6, 30)


def _attribute_world() -> dict[str, pa.Table]:
    return world(
        accounts=[{**account("a1", "SMB"), "industry": "Retail", "payment_method": "card"},
                  {**account("a2", "Enterprise"), "payment_method": " "}],
        subscriptions=[sub("s1", "a1", "2024-01-01", plan="basic", end_date="2024-05-01"),
                       sub("s2", "a1", "2024-05-01", plan="pro", price="80"),
                       sub("s3", "a2", "2024-01-01", plan="pro", months=12,
                           auto_renew=True)])


def test_accounts_columns_custom_ones_included_are_candidates_but_never_ids_or_names(duck):
    tables = duck.load(_attribute_world())
    names = candidate_attributes(tables)
    assert {"attribute_segment", "attribute_industry", "attribute_payment_method",
            "attribute_plan", "attribute_auto_renew"} <= set(names)
    assert not {"attribute_account_id", "attribute_name", "attribute_domain",
                "attribute_owner_email", "attribute_created_at"} & set(names)


def test_attributes_are_text_and_the_plan_is_the_running_rows_at_each_date(duck):
    tables = duck.load(_attribute_world())
    wanted = ["attribute_segment", "attribute_payment_method", "attribute_plan",
              "attribute_auto_renew"]
    now = duck.rows(feature_table(tables, as_of=T, base_currency="USD", features=wanted))
    assert now["a1"]["attribute_plan"] == "pro"
    assert now["a1"]["attribute_payment_method"] == "card"
    assert now["a2"]["attribute_payment_method"] is None  # blank is missing, not a level
    assert now["a2"]["attribute_segment"] == "Enterprise"
    assert now["a2"]["attribute_auto_renew"] == "true"
    before = duck.rows(feature_table(tables, as_of=date(2024, 3, 1), base_currency="USD",
                                     features=wanted))
    assert before["a1"]["attribute_plan"] == "basic"


def test_an_attribute_changed_later_does_not_leak_backwards_from_the_account_versions(duck):
    tables = duck.load(_attribute_world())
    versions = ibis.memtable(pa.table({
        "account_id": ["a1", "a1", "a2"],
        "known_from": pa.array([1704110400, 1717243200, 1735689600], pa.timestamp("s")),
        "segment": ["SMB", "Mid-Market", "Enterprise"]}))
    # a1 loaded 2024-01-01 as SMB and 2024-06-01 as Mid-Market; a2 first loaded 2025-01-01.
    tables = {**tables, ACCOUNT_VERSIONS: versions}
    points = ibis.memtable(pa.table({
        "account_id": ["a1", "a1", "a2"],
        "as_of": [date(2024, 3, 1), date(2024, 6, 30), date(2024, 6, 30)]}))
    rows = duck.con.to_pyarrow(feature_table_at(tables, points, base_currency="USD",
                                                features=["attribute_segment"])).to_pylist()
    got = {(r["account_id"], r["as_of"]): r["attribute_segment"] for r in rows}
    assert got[("a1", date(2024, 3, 1))] == "SMB"
    assert got[("a1", date(2024, 6, 30))] == "Mid-Market"
    # Known only after T: its earliest version is all there is (documented as today's value).
    assert got[("a2", date(2024, 6, 30))] == "Enterprise"


def _rows(values: list[str | None], accounts: list[str] | None = None) -> pa.Table:
    ids = accounts or [f"a{i}" for i in range(len(values))]
    return pa.table({"account_id": ids, "attribute_x": pa.array(values, pa.string())})


def test_rare_levels_are_pooled_and_an_unseen_level_reads_as_the_pool():
    values = ["card"] * 30 + ["invoice"] * 30 + ["cheque"] * 3
    encodings, left = choose_encodings(_rows(values), ["attribute_x"])
    e = encodings["attribute_x"]
    assert left == []
    assert e.kind == "categorical" and e.levels == ("card", "invoice", OTHER)
    codes = e.codes(["invoice", "cheque", "barter", None])
    assert codes[0] == 1 and codes[1] == 2 and codes[2] == 2
    assert codes[3] != codes[3]  # missing stays missing (NaN)


def test_an_unseen_level_without_a_pool_reads_as_missing():
    encodings, _ = choose_encodings(_rows(["card"] * 20 + ["invoice"] * 20), ["attribute_x"])
    assert encodings["attribute_x"].codes(["barter"])[0] != encodings["attribute_x"].codes(
        ["barter"])[0]


def test_identifiers_free_text_and_constants_are_refused_with_the_reason():
    unique = [f"v{i}" for i in range(40)]
    rows = pa.table({"account_id": [f"a{i}" for i in range(40)],
                     "attribute_x": unique,
                     "attribute_crm_id": ["1"] * 20 + ["2"] * 20,
                     "attribute_y": ["same"] * 40,
                     "attribute_z": pa.array([None] * 40, pa.string())})
    encodings, left = choose_encodings(rows, ["attribute_x", "attribute_crm_id", "attribute_y",
                                              "attribute_z"])
    assert encodings == {}
    why = {r["feature"]: r["reason"] for r in left}
    assert "identifier or free text" in why["attribute_x"]
    assert "named like an identifier" in why["attribute_crm_id"]
    assert "same value (same)" in why["attribute_y"]
    assert why["attribute_z"] == "no value on any past decision"


def test_a_column_of_numbers_is_numeric():
    encodings, _ = choose_encodings(_rows(["10", "250", "3.5", None] * 5), ["attribute_x"])
    e = encodings["attribute_x"]
    assert e.kind == "numeric"
    assert list(e.codes(["250", "1e3"])) == [250.0, 1000.0]


def test_candidate_attributes_of_a_world_without_accounts_columns_are_the_contracts(duck):
    tables = duck.load({"subscriptions": table_from_rows("subscriptions", [
        sub("s1", "a1", "2024-01-01")])})
    assert "attribute_plan" in candidate_attributes(tables)


def test_the_landing_areas_earlier_account_versions_give_the_attribute_as_it_was(tmp_path):
    from typer.testing import CliRunner

    from quarterdeck.cli.main import app
    from quarterdeck.landing.account_versions import with_account_versions
    from quarterdeck.warehouse.canonical import canonical_tables
    from quarterdeck.warehouse.connection import connect

    ws = tmp_path / "ws"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    for segment in ("SMB", "Enterprise"):
        folder = tmp_path / segment
        folder.mkdir()
        (folder / "accounts.csv").write_text(
            f"account_id,name,segment,tier_note\na1,Acme,{segment},{segment.lower()}\n")
        result = runner.invoke(app, ["load", str(folder), "--workspace", str(ws)])
        assert result.exit_code == 0, result.output
    con = connect(f"duckdb:///{ws / 'data' / 'warehouse.duckdb'}")
    # The two loads as if committed on 2024-01-01 and 2024-06-01.
    con.raw_sql("UPDATE _quarterdeck_loads SET loaded_at = CASE WHEN load_id = 1 "
                "THEN TIMESTAMP '2024-01-01 08:00:00' ELSE TIMESTAMP '2024-06-01 08:00:00' END")
    tables = with_account_versions(canonical_tables(con), con, ws / "data" / "landing")
    points = ibis.memtable(pa.table({"account_id": ["a1", "a1"],
                                     "as_of": [date(2024, 3, 1), date(2024, 6, 30)]}))
    rows = con.to_pyarrow(feature_table_at(
        tables, points, base_currency="USD",
        features=["attribute_segment", "attribute_tier_note"])).to_pylist()
    got = {r["as_of"]: (r["attribute_segment"], r["attribute_tier_note"]) for r in rows}
    assert got == {date(2024, 3, 1): ("SMB", "smb"),
                   date(2024, 6, 30): ("Enterprise", "enterprise")}
