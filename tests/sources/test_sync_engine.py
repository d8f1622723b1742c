"""The sync engine: pages loaded before their cursor is stored, resuming after a failure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from quarterdeck.errors import QuarterdeckError
from quarterdeck.sources.config import SourcesConfig
from quarterdeck.sources.connector import Connector, Page
from quarterdeck.sources.credentials import Credentials
from quarterdeck.sources.sync import SyncFailed, sync_source
from quarterdeck.sources.sync_state import SyncState
from quarterdeck.warehouse.connection import connect
from quarterdeck.workspace.workspace import Workspace, open_workspace

CUSTOMERS = [{"id": f"c{i}", "name": f"Customer {i}", "updated": 1_700_000_000 + i}
             for i in range(1, 8)]


class Vendor:
    """A vendor whose list endpoint pages by `updated` and can fail once at a given call."""

    def __init__(self, fail_at_call: int | None = None) -> None:
        self.fail_at_call = fail_at_call
        self.calls = 0

    def list(self, since: int, limit: int) -> list[dict]:
        self.calls += 1
        if self.calls == self.fail_at_call:
            self.fail_at_call = None
            raise ConnectionError("vendor unreachable")
        return [c for c in CUSTOMERS if c["updated"] > since][:limit]


class FakeConnector(Connector):
    kind = "fake"
    objects = ("customers", "payments")

    def __init__(self, ws: Workspace, vendor: Vendor) -> None:
        source = SourcesConfig.model_validate(
            {"sources": {"acme": {"kind": "stripe"}}}).sources["acme"]
        super().__init__("acme", source, Credentials("acme", {}))
        self.vendor = vendor

    def pages(self, obj, cursor):
        if obj == "payments":
            return
        since = (cursor or {}).get("updated", 0)
        while batch := self.vendor.list(since, 3):
            since = batch[-1]["updated"]
            yield Page({"accounts": [{"account_id": self.id(c["id"]), "name": c["name"]}
                                     for c in batch]},
                       {"updated": since}, newest=datetime.fromtimestamp(since, UTC))


def accounts(ws: Workspace) -> list[str]:
    con = connect(ws.warehouse_url)
    try:
        return sorted(r[0] for r in con.raw_sql("SELECT account_id FROM accounts").fetchall())
    finally:
        con.disconnect()


def test_a_sync_loads_every_page_and_remembers_where_it_stopped(workspace):
    vendor = Vendor()
    result = sync_source(workspace, "acme", connector=FakeConnector(workspace, vendor))
    assert result.records == 7 and result.rows_loaded == 7
    assert accounts(workspace) == sorted(f"acme:c{i}" for i in range(1, 8))
    state = SyncState.load(workspace.data_dir / "sources" / "acme")
    assert state.object("customers").cursor == {"updated": 1_700_000_007}
    assert state.object("customers").rows == {"accounts": 7}
    assert state.object("customers").newest.startswith("2023-11-14T22:13:27")
    assert state.last_run.status == "ok"
    # Nothing changed since: the next sync reads nothing and loads nothing.
    again = sync_source(workspace, "acme", connector=FakeConnector(workspace, vendor))
    assert again.records == 0 and again.rows_loaded == 0


def test_a_failed_sync_keeps_what_it_read_and_the_next_one_resumes(workspace):
    vendor = Vendor(fail_at_call=2)  # the second page fails
    with pytest.raises(SyncFailed, match="vendor unreachable"):
        sync_source(workspace, "acme", connector=FakeConnector(workspace, vendor))
    assert accounts(workspace) == ["acme:c1", "acme:c2", "acme:c3"]
    state = SyncState.load(workspace.data_dir / "sources" / "acme")
    assert state.object("customers").cursor == {"updated": 1_700_000_003}
    assert state.last_run.status == "failed" and "vendor unreachable" in state.last_run.error
    calls_before = vendor.calls
    result = sync_source(workspace, "acme", connector=FakeConnector(workspace, vendor))
    assert result.records == 4  # only what the failed sync had not read
    assert vendor.calls - calls_before == 3  # two pages and the empty one that ends the list
    assert len(accounts(workspace)) == 7


def test_a_changed_record_replaces_its_row(workspace):
    sync_source(workspace, "acme", connector=FakeConnector(workspace, Vendor()))
    CUSTOMERS.append({"id": "c1", "name": "Customer One Renamed", "updated": 1_800_000_000})
    try:
        sync_source(workspace, "acme", connector=FakeConnector(workspace, Vendor()))
    finally:
        CUSTOMERS.pop()
    con = connect(workspace.warehouse_url)
    try:
        rows = con.raw_sql("SELECT name FROM accounts WHERE account_id = 'acme:c1'").fetchall()
    finally:
        con.disconnect()
    assert rows == [("Customer One Renamed",)]


def test_rows_that_break_the_contract_are_set_aside_and_the_rest_load(workspace):
    class Nameless(FakeConnector):
        def pages(self, obj, cursor):
            if obj == "customers":
                yield Page({"accounts": [{"account_id": "acme:x", "name": None},
                                         {"account_id": "acme:y", "name": "Y"}]}, {"n": 1})

    result = sync_source(workspace, "acme", connector=Nameless(workspace, Vendor()))
    assert result.rows_loaded == 1 and result.rows_rejected == 1
    assert accounts(workspace) == ["acme:y"]
    assert result.rejects_files


def test_an_unknown_source_is_named(workspace):
    with pytest.raises(QuarterdeckError, match="no source named 'nope'"):
        sync_source(workspace, "nope")


def test_sources_config_is_read_from_the_workspace(workspace):
    (workspace.definitions_dir / "sources.yml").write_text(
        "sources:\n  billing:\n    kind: stripe\n    expected_every: 6h\n"
        "files:\n  freshness: {tickets: 2d}\n")
    ws = open_workspace(workspace.root)
    assert ws.sources.source("billing").expected_for("subscriptions").total_seconds() == 21600
    assert ws.sources.files.expected_for("tickets").days == 2
    assert ws.sources.source_of_id("billing:cus_1") == "billing"
    assert ws.sources.source_of_id("cus_1") == "files"


class Hierarchy(Connector):
    """Accounts in pages of one, listed children first, as a vendor lists changes."""

    kind = "fake"
    objects = ("customers",)

    def __init__(self, rows: list[dict], fail_after: int | None = None) -> None:
        source = SourcesConfig.model_validate(
            {"sources": {"acme": {"kind": "stripe"}}}).sources["acme"]
        super().__init__("acme", source, Credentials("acme", {}))
        self.rows, self.fail_after = rows, fail_after

    def pages(self, obj, cursor):
        start = (cursor or {}).get("n", 0)
        for n, row in enumerate(self.rows[start:], start + 1):
            if self.fail_after is not None and n > self.fail_after:
                raise ConnectionError("vendor unreachable")
            yield Page({"accounts": [row]}, {"n": n})


def parents(ws: Workspace) -> dict[str, str | None]:
    con = connect(ws.warehouse_url)
    try:
        return dict(con.raw_sql("SELECT account_id, parent_account_id FROM accounts").fetchall())
    finally:
        con.disconnect()


def account(n: str, parent: str | None = None) -> dict:
    return {"account_id": n, "name": f"Account {n}", "parent_account_id": parent}


@pytest.fixture
def one_row_batches(monkeypatch):
    monkeypatch.setattr("quarterdeck.sources.sync.FLUSH_ROWS", 1)


def test_a_child_read_a_batch_before_its_parent_is_linked_when_the_sync_ends(
        workspace, one_row_batches):
    rows = [account("kid", "mom"), account("grandkid", "kid"), account("mom")]
    result = sync_source(workspace, "acme", connector=Hierarchy(rows))
    assert parents(workspace) == {"kid": "mom", "grandkid": "kid", "mom": None}
    assert result.rows_rejected == 0
    assert not (workspace.data_dir / "sources" / "acme" / "deferred-accounts.ndjson").exists()


def test_a_parent_that_never_comes_is_refused_and_the_child_kept(workspace, one_row_batches):
    result = sync_source(workspace, "acme",
                         connector=Hierarchy([account("kid", "ghost"), account("other")]))
    assert parents(workspace) == {"kid": None, "other": None}
    assert result.rows_rejected == 1
    rejects = result.rejects_files
    assert rejects and "parent_account_id" in open(rejects[0]).read()


def test_a_failed_sync_links_its_held_children_when_the_next_one_ends(
        workspace, one_row_batches):
    rows = [account("kid", "mom"), account("other"), account("mom")]
    with pytest.raises(SyncFailed):
        sync_source(workspace, "acme", connector=Hierarchy(rows, fail_after=2))
    assert parents(workspace) == {"kid": None, "other": None}
    assert (workspace.data_dir / "sources" / "acme" / "deferred-accounts.ndjson").exists()
    sync_source(workspace, "acme", connector=Hierarchy(rows))
    assert parents(workspace) == {"kid": "mom", "other": None, "mom": None}


def test_a_newer_version_read_later_in_the_sync_wins_over_the_held_row(
        workspace, one_row_batches):
    rows = [account("kid", "mom"), account("kid", "dad"), account("dad"), account("mom")]
    sync_source(workspace, "acme", connector=Hierarchy(rows))
    assert parents(workspace)["kid"] == "dad"


def test_a_parent_already_loaded_links_at_once(workspace, one_row_batches):
    sync_source(workspace, "acme", connector=Hierarchy([account("mom")]))
    sync_source(workspace, "acme", connector=Hierarchy([account("mom"), account("kid", "mom")]))
    assert parents(workspace) == {"mom": None, "kid": "mom"}
    assert not (workspace.data_dir / "sources" / "acme" / "deferred-accounts.ndjson").exists()


class ArrowHierarchy(Hierarchy):
    """The same, in Arrow tables, as warehouse-table sources read."""

    def pages(self, obj, cursor):
        import pyarrow as pa

        for page in super().pages(obj, cursor):
            table = pa.Table.from_pylist(page.rows["accounts"], schema=pa.schema(
                [("account_id", pa.string()), ("name", pa.string()),
                 ("parent_account_id", pa.string())]))
            yield Page({"accounts": table}, page.cursor)


def test_arrow_batches_hold_children_back_too(workspace, one_row_batches):
    rows = [account("kid", "mom"), account("mom"), account("lost", "ghost")]
    result = sync_source(workspace, "acme", connector=ArrowHierarchy(rows))
    assert parents(workspace) == {"kid": "mom", "mom": None, "lost": None}
    assert result.rows_rejected == 1
