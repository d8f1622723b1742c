"""Duplicates found: the same thing entered twice, as caught on the way in.

A canonical table cannot hold two rows with one key (the loader refuses them), so duplicates
show up in two other places:

- accounts that identity resolution put in one customer with another account of the same
  source (warehouse table `account_resolution`), i.e. the same company entered twice in one
  system — counted per source among the accounts known as of the day (one company seen by
  the CRM and by billing is the normal case, not a duplicate);
- rows the loader refused because their id was already on an earlier row of the same file
  (`data/rejects/*.csv`, reason "duplicate id …"), counted once however often the file was
  retried.

Example: 40 of 2,040 accounts from files merged into another customer → failed 40, share
2.0%.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from quarterdeck.identity.tables import ACCOUNT_RESOLUTION
from quarterdeck.quality.definitions import QualityDefinitions
from quarterdeck.quality.row_tests import RowTest
from quarterdeck.sources.config import SourcesConfig

DUPLICATE_REASON = "duplicate id"
REJECT_COLUMNS = ("file", "row", "field", "value", "reason")


def _merged_accounts(tables: Mapping[str, ir.Table]) -> ir.Table:
    """Accounts of a customer that already has an account of the same source: all but the
    first (the customer's own id first, then by id). A Stripe customer joined to its CRM
    account is one company seen by two systems, not a duplicate."""
    r = tables[ACCOUNT_RESOLUTION]
    first = ibis.row_number().over(ibis.window(
        group_by=[r.customer_id, r.source],
        order_by=[(r.account_id != r.customer_id).ifelse(1, 0), r.account_id]))
    ranked = r.mutate(_rank=first)
    return ranked.filter(ranked._rank > 0).select("account_id")


def merged_accounts_test(definitions: QualityDefinitions) -> RowTest:
    """Accounts pass unless identity resolution merged them into another customer (needs
    the `account_resolution` table among the tables)."""
    settings = definitions.duplicates
    return RowTest("accounts", "duplicates", "merged", "account_id",
                   settings.severity, settings.threshold,
                   "the account is not the same company as another account",
                   lambda t, found: found, lookup=_merged_accounts)


@dataclass(frozen=True)
class RejectedDuplicates:
    """Rows of `entity` from `source` the loader refused as duplicate ids."""

    source: str
    entity: str
    rows: int
    examples: tuple[str, ...]


def read_rejects(rejects_dir: Path) -> pa.Table:
    """Every rejects file of the workspace as one table: entity (from the file name), file,
    row, field, value, reason; empty when there are none."""
    schema = pa.schema([("entity", pa.string()), *((c, pa.string()) for c in REJECT_COLUMNS)])
    tables = []
    for path in sorted(Path(rejects_dir).glob("*.rejects.csv")):
        table = pv.read_csv(path, convert_options=pv.ConvertOptions(
            column_types={c: pa.string() for c in REJECT_COLUMNS}, strings_can_be_null=True))
        if not set(REJECT_COLUMNS) <= set(table.column_names):
            continue
        entity = path.name.split("-", 1)[0]
        table = table.select(list(REJECT_COLUMNS))
        tables.append(table.add_column(0, "entity", pa.array([entity] * table.num_rows,
                                                             pa.string())))
    return pa.concat_tables(tables).cast(schema) if tables else schema.empty_table()


def rejected_duplicates(rejects: pa.Table, sources: SourcesConfig,
                        per_entity: int = 3) -> list[RejectedDuplicates]:
    """The rows refused as duplicate ids, per source and entity, each file row counted once."""
    if rejects.num_rows == 0:
        return []
    reasons = pc.fill_null(rejects["reason"], "")
    dups = rejects.filter(pc.starts_with(reasons, DUPLICATE_REASON))
    seen: dict[tuple[str, str], dict[tuple[str, str], str]] = {}
    for row in dups.select(["entity", "file", "row", "value"]).to_pylist():
        value = row["value"] or ""
        source = sources.source_of_id(value)
        seen.setdefault((source, row["entity"]), {})[(row["file"], row["row"])] = value
    return [RejectedDuplicates(source, entity, len(rows), tuple(sorted(set(rows.values()))
                                                                [:per_entity]))
            for (source, entity), rows in sorted(seen.items())]
