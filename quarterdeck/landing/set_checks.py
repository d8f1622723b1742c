"""Checks over a whole staged file: duplicate ids and references to other entities."""

from __future__ import annotations

from quarterdeck.contract.entities import Entity
from quarterdeck.landing.row_checks import literal, quote


def where_in_file_sql(row: str, header_lines: int | None) -> str:
    """SQL text naming a record's place as `quarterdeck.errors.where_in_file` does."""
    n = f"CAST({row} AS VARCHAR)"
    if header_lines is None:
        return f"'row ' || {n}"
    if header_lines == 0:
        return f"'line ' || {n}"
    return f"'line ' || CAST({row} + {header_lines} AS VARCHAR) || ' (row ' || {n} || ' of data)'"


def set_problems_sql(entity: Entity, stage: str, row: str,
                     header_lines: int | None = None) -> list[str]:
    """SELECTs yielding (row, field, value, reason) for every duplicate id and broken reference.

    Duplicates: every row after the first with the same key. References: a value that is
    neither in the referenced canonical table nor, for a self-reference, in the file itself.
    `header_lines` says how rows map to the file's lines (see `where_in_file_sql`).
    """
    queries = []
    key_cols = ", ".join(quote(k) for k in entity.key)
    key_value = " || '/' || ".join(f"CAST({quote(k)} AS VARCHAR)" for k in entity.key)
    not_null = " AND ".join(f"{quote(k)} IS NOT NULL" for k in entity.key)
    queries.append(
        f"SELECT {row}, {literal('/'.join(entity.key))}, {key_value}, "
        f"'duplicate id: the same ' || {literal('/'.join(entity.key))} || ' is on ' "
        f"|| {where_in_file_sql('first_row', header_lines)} FROM ("
        f"SELECT {row}, {key_cols}, min({row}) OVER (PARTITION BY {key_cols}) AS first_row "
        f"FROM {stage} WHERE {not_null} AND ({key_cols}) IN ("
        f"SELECT ({key_cols}) FROM {stage} WHERE {not_null} GROUP BY {key_cols} "
        f"HAVING count(*) > 1)) WHERE {row} <> first_row")
    for col in entity.columns:
        if not col.references:
            continue
        target_entity, target_col = col.references.split(".")
        known = f"SELECT {quote(target_col)} AS v FROM {quote(target_entity)}"
        if target_entity == entity.name:
            known += f" UNION ALL SELECT {quote(target_col)} FROM {stage}"
        label = target_entity.rstrip("s")
        queries.append(
            f"SELECT {row}, {literal(col.name)}, {quote(col.name)}, "
            f"{literal(f'unknown {label}: no {target_entity} row has this {target_col}')} "
            f"FROM {stage} s WHERE {quote(col.name)} IS NOT NULL AND NOT EXISTS ("
            f"SELECT 1 FROM ({known}) k WHERE k.v = s.{quote(col.name)})")
    return queries

