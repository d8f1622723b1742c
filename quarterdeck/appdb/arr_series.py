"""Each account's monthly ARR as published for a day, packed into one row per account.

The trend chart of the account page shows an account's ARR at each month end (and on the day)
over the last year or so. The months rarely change from one day to the next, and a book of
20,000 accounts has close to half a million of them: stored a row per month, every day's
publish wrote them all again (about 46 MB a day in SQLite). Packed, a day is one row per
account, its months a JSON list of [month, arr] pairs in month order, the amounts as exact
decimal strings (or null where ARR is not known): ["2026-08-31", "1200.00"].

`quarterdeck export account_arr_history` and the reports still see a row per month
(`unpacked`).

Example: packed(pa.table({"account_id": ["a", "a"], "month": [d1, d2], "arr": [x, y]}))
→ one row: account_id "a", months '[["2026-07-31","100.00"],["2026-08-31","120.00"]]'.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

COLUMNS = ("account_id", "month", "arr")


def packed(history: pa.Table) -> pa.Table:
    """`history` (account_id, month, arr: a row per account and month) as one row per
    account: account_id, months (see the module)."""
    if history.num_rows == 0:
        return pa.table({"account_id": pa.array([], pa.string()),
                         "months": pa.array([], pa.string())})
    h = history.select(list(COLUMNS)).sort_by([("account_id", "ascending"),
                                               ("month", "ascending")])
    month = pc.cast(pc.cast(h.column("month"), pa.date32()), pa.string())
    arr = _cents(h.column("arr"))
    amount = pc.if_else(pc.is_null(arr), pa.scalar("null"),
                        pc.binary_join_element_wise('"', pc.cast(arr, pa.string()), '"', ""))
    pair = pc.binary_join_element_wise('["', month, '",', amount, "]", "")
    grouped = pa.table({"account_id": h.column("account_id"), "pair": pair}).group_by(
        "account_id", use_threads=False).aggregate([("pair", "list")])
    months = pc.binary_join_element_wise(
        "[", pc.binary_join(grouped.column("pair_list"), ","), "]", "")
    return pa.table({"account_id": grouped.column("account_id"), "months": months})


def _cents(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    """Amounts to the cent, as the app database's money columns hold them (half up)."""
    if pa.types.is_decimal(arr.type) and arr.type.scale == 2:
        return arr
    rounded = pc.round(arr, 2, round_mode="half_towards_infinity")
    return pc.cast(rounded, pa.decimal128(38, 2), safe=False)


def months_of(text: str) -> list[tuple[date, Decimal | None]]:
    """The (month, ARR) pairs of one packed row, in month order."""
    pairs = [(date.fromisoformat(m), None if a is None else Decimal(a))
             for m, a in json.loads(text)]
    return sorted(pairs, key=lambda p: p[0])


def unpacked(rows: pa.Table) -> pa.Table:
    """Packed rows (as_of, account_id, months) back as a row per month: as_of, account_id,
    month, arr, ordered by account and month."""
    out: dict[str, list] = {"as_of": [], "account_id": [], "month": [], "arr": []}
    for as_of, account, text in zip(rows.column("as_of").to_pylist(),
                                    rows.column("account_id").to_pylist(),
                                    rows.column("months").to_pylist(), strict=True):
        for month, arr in months_of(text):
            out["as_of"].append(as_of)
            out["account_id"].append(account)
            out["month"].append(month)
            out["arr"].append(arr)
    table = pa.table({"as_of": pa.array(out["as_of"], pa.date32()),
                      "account_id": pa.array(out["account_id"], pa.string()),
                      "month": pa.array(out["month"], pa.date32()),
                      "arr": pa.array(out["arr"], pa.decimal128(18, 2))})
    return table.sort_by([("as_of", "ascending"), ("account_id", "ascending"),
                          ("month", "ascending")])
