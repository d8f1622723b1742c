"""Through the CLI: a workspace loads CSVs from four sources, resolves them, and is reviewed,
overridden and exported."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.csv as pcsv
import pytest
from typer.testing import CliRunner

from quarterdeck.cli.main import app
from quarterdeck.testing.identity_world import EXPECTED_CUSTOMERS, IDENTITY_YML, identity_world
from tests.cli_runner import qd

runner = CliRunner()
SOURCES_YML = """\
sources:
  crm: {kind: hubspot}
  stripe: {kind: stripe}
  zendesk: {kind: zendesk}
"""


def export(ws: Path, table: str) -> list[dict[str, str]]:
    out = ws / f"{table}.csv"
    qd("export", table, "--out", out, "--as-of", "2024-06-30", "--workspace", ws)
    return list(csv.DictReader(out.open()))


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    qd("init", root)
    (root / "definitions" / "sources.yml").write_text(SOURCES_YML)
    (root / "definitions" / "identity.yml").write_text(IDENTITY_YML)
    inbox = tmp_path / "in"
    inbox.mkdir()
    for name, table in identity_world().items():
        pcsv.write_csv(table, inbox / f"{name}.csv")
    qd("load", inbox, "--workspace", root)
    return root


def test_loading_resolves_and_exports_show_customers(ws):
    resolution = export(ws, "account_resolution")
    groups: dict[str, set[str]] = {}
    for row in resolution:
        groups.setdefault(row["customer_id"], set()).add(row["account_id"])
    assert groups == EXPECTED_CUSTOMERS
    sources = {r["account_id"]: r["source"] for r in resolution}
    assert (sources["acme"], sources["crm:501"], sources["zendesk:9"]) == (
        "files", "crm", "zendesk")
    assert {r["account_id"] for r in export(ws, "accounts")} == set(EXPECTED_CUSTOMERS)
    assert {r["ticket_id"]: r["account_id"] for r in export(ws, "tickets")} == {
        "t1": "acme", "t2": "acme", "t3": "crm:77"}


def test_review_then_confirm_then_split(ws):
    review = qd("identity", "matches", "--decision", "review", "--workspace", ws)
    assert "vandelay" in review and "stripe:cus_v" in review and "Account matches (2)" in review
    out = qd("identity", "confirm", "vandelay", "stripe:cus_v", "--workspace", ws)
    assert "Added [vandelay, stripe:cus_v] to confirm" in out
    customer = {r["account_id"]: r["customer_id"] for r in export(ws, "account_resolution")}
    assert customer["stripe:cus_v"] == "vandelay"
    qd("identity", "split", "acme", "zendesk:9", "--workspace", ws)
    customer = {r["account_id"]: r["customer_id"] for r in export(ws, "account_resolution")}
    assert customer["zendesk:9"] == "zendesk:9" and customer["crm:501"] == "acme"
    text = (ws / "definitions" / "identity.yml").read_text()
    assert "# the CRM knows who owns the account" in text
    assert "  - [acme, 'zendesk:9']" in text
    decisions = {(r["left_account_id"], r["right_account_id"]): r["decision"]
                 for r in export(ws, "account_matches")}
    assert decisions[("acme", "zendesk:9")] == "split"
    assert decisions[("stripe:cus_v", "vandelay")] == "confirmed"


def test_resolve_after_editing_identity_yml(ws):
    (ws / "definitions" / "identity.yml").write_text("source_priority: [zendesk]\n")
    out = qd("identity", "resolve", "--workspace", ws)
    assert "16 accounts" in out
    customer = {r["account_id"]: r["customer_id"] for r in export(ws, "account_resolution")}
    assert customer["acme"] == "zendesk:9"  # the help desk now ranks first


def test_a_bad_identity_yml_stops_with_file_and_line(ws):
    (ws / "definitions" / "identity.yml").write_text("threshold: 0.9\nsplit:\n  - [a]\n")
    result = runner.invoke(app, ["identity", "resolve", "--workspace", str(ws)])
    assert result.exit_code == 1
    assert "identity.yml:3: field 'split.0'" in result.output
