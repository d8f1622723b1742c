"""What every connector is: named objects, each read in pages from a cursor, mapped to the contract.

A connector knows one vendor. For each of its objects (Stripe's `customers`, HubSpot's
`companies` …) it yields `Page`s in the order the vendor returns changes, each page holding
the page's records already mapped onto the data contract's entities and the cursor that
resumes *after* that page. The sync engine (`quarterdeck.sources.sync`) makes the pages
durable, loads them and only then stores the cursor, so a sync that fails half-way resumes
from its last stored page and a repeated page only re-loads the same rows.

Cursors are small JSON objects the connector defines (a timestamp, a vendor's page token …);
`None` means "from the beginning".

Example::

    class Acme(Connector):
        kind = "acme"
        objects = ("customers",)
        object_entities = {"customers": "accounts"}

        def pages(self, obj, cursor):
            for records, after in self.client.list_customers(since=cursor):
                yield Page({"accounts": [self.account(r) for r in records]}, {"after": after})
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import pyarrow as pa

from quarterdeck.sources.config import Source
from quarterdeck.sources.credentials import Credentials

Cursor = dict[str, Any] | None
Row = dict[str, Any]


@dataclass
class Page:
    """One page of an object: contract rows by entity, and the cursor to resume after it.

    An entity's rows are a list of dicts (vendor records mapped one by one) or, for sources
    that read tables in bulk, an Arrow table with the contract's column names.

    `newest` is the newest change time seen in the page (for freshness), when the vendor
    tells it.
    """

    rows: dict[str, list[Row] | pa.Table]
    cursor: Cursor
    newest: datetime | None = None
    records: int = field(default=-1)

    def __post_init__(self) -> None:
        if self.records < 0:
            self.records = sum(
                r.num_rows if isinstance(r, pa.Table) else len(r) for r in self.rows.values())


class Connector:
    """Base of the vendor connectors; subclasses set `kind`, `objects` and `pages`."""

    kind: ClassVar[str]
    objects: ClassVar[tuple[str, ...]]
    # The credentials it needs, e.g. ("api_key",); read by `Credentials.require`.
    secrets: ClassVar[tuple[str, ...]] = ()
    # The entity of the data contract each object's rows become, e.g. customers → accounts.
    object_entities: ClassVar[dict[str, str]] = {}

    def __init__(self, name: str, source: Source, credentials: Credentials) -> None:
        self.name = name
        self.source = source
        self.credentials = credentials

    def selected_objects(self) -> tuple[str, ...]:
        from quarterdeck.errors import QuarterdeckError

        chosen = tuple(self.source.objects or self.objects)
        unknown = sorted(set(chosen) - set(self.objects))
        if unknown:
            raise QuarterdeckError(f"source {self.name!r}: {', '.join(unknown)} not objects of "
                                   f"{self.kind} (known: {', '.join(self.objects)})")
        return chosen

    def entities(self) -> dict[str, str]:
        """Each object it syncs and the entity of the data contract its rows become."""
        return {obj: self.object_entities[obj] for obj in self.selected_objects()}

    def pages(self, obj: str, cursor: Cursor) -> Iterator[Page]:
        raise NotImplementedError

    def id(self, value: Any) -> str | None:
        """A vendor id as a canonical id: prefixed with the source's name unless turned off."""
        if value is None or value == "":
            return None
        return f"{self.name}:{value}" if self.source.prefix_ids else str(value)
