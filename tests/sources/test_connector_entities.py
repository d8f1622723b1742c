"""Every connector says which entity of the data contract each of its objects feeds (the
definitions page shows it beside the source)."""

from __future__ import annotations

import pytest

from quarterdeck.contract.entities import ENTITIES
from quarterdeck.sources.config import CONNECTOR_KINDS, Source
from quarterdeck.sources.credentials import Credentials
from quarterdeck.sources.sync import connector_class


@pytest.mark.parametrize("kind", CONNECTOR_KINDS)
def test_each_object_of_a_connector_feeds_an_entity_of_the_contract(kind: str) -> None:
    cls = connector_class(kind)
    assert set(cls.object_entities) == set(cls.objects)
    assert set(cls.object_entities.values()) <= set(ENTITIES)


def test_a_source_lists_only_the_objects_it_syncs() -> None:
    source = Source(kind="stripe", objects=["customers", "invoices"])
    connector = connector_class("stripe")("billing", source, Credentials("billing", {}))
    assert connector.entities() == {"customers": "accounts", "invoices": "invoices"}


def test_a_warehouse_table_source_feeds_the_entities_of_its_mappings() -> None:
    source = Source(kind="warehouse_table", url="duckdb://x.duckdb", tables=[
        {"entity": "accounts", "table": "crm.companies"},
        {"entity": "tickets", "table": "support.tickets"}])
    connector = connector_class("warehouse_table")("dw", source, Credentials("dw", {}))
    assert connector.entities() == {"crm.companies": "accounts", "support.tickets": "tickets"}
