"""How each account attribute enters the churn model, decided on the training rows.

- A column whose every value reads as a number (e.g. a custom `employees` column) is *numeric*
  and enters like any other feature.
- Otherwise it is *categorical*: a level held by fewer than `min_accounts(n)` accounts
  (10, or 1% of the accounts with a value when more) is pooled into `(other)`; a level first
  seen after training reads as `(other)` when the model has that pool, else as missing.
- Refused, with the reason on the model card: a column named like an identifier (`*_id`,
  `*_number`, `phone`, `email`, …), more than `MAX_LEVELS` distinct values, or a column whose
  kept levels would leave most accounts in `(other)` (ids, free text); and a column with no
  value or a single value on the past decisions (it cannot tell them apart).

Example: choose_encodings(rows, ["attribute_plan"]) → ({"attribute_plan": Encoding(...)}, []).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from quarterdeck.health.account_attributes import column_of

OTHER = "(other)"
MAX_LEVELS = 50
MIN_LEVEL_ACCOUNTS = 10
MIN_LEVEL_SHARE = 0.01
ID_LIKE = re.compile(r"(^|_)(id|ids|uuid|key|number|no|phone|email|e_mail|website|url|"
                     r"address|zip|postcode|postal_code|name)$")


@dataclass(frozen=True)
class Encoding:
    """How one attribute is read: `numeric`, or `categorical` with its kept `levels` (and
    `(other)` last when rare levels were pooled)."""

    name: str
    kind: str
    levels: tuple[str, ...] = ()

    @property
    def pooled(self) -> bool:
        return OTHER in self.levels

    def codes(self, values: Sequence[str | None]) -> np.ndarray:
        """The column as floats: a number, or a level's index; NaN when missing."""
        if self.kind == "numeric":
            return np.array([_number(v) for v in values], dtype=float)
        index = {level: float(i) for i, level in enumerate(self.levels)}
        other = index.get(OTHER, math.nan)
        return np.array([math.nan if v is None else index.get(v, other) for v in values],
                        dtype=float)

    def level(self, code: float) -> str | None:
        """The level a code stands for (None for missing or a numeric attribute)."""
        if self.kind != "categorical" or math.isnan(code):
            return None
        return self.levels[int(code)]


def _number(value: str | None) -> float:
    if value is None:
        return math.nan
    try:
        return float(value)
    except ValueError:
        return math.nan


def min_accounts(n_accounts: int) -> int:
    """Accounts a level needs to keep its own coefficient."""
    return max(MIN_LEVEL_ACCOUNTS, math.ceil(MIN_LEVEL_SHARE * n_accounts))


def _decide(name: str, values: pa.Array, accounts: pa.Array) -> Encoding | str:
    """The encoding of one attribute, or why it is left out."""
    column = column_of(name)
    if ID_LIKE.search(column):
        return "named like an identifier, not a category"
    present = pc.is_valid(values)
    vals = pc.filter(values, present)
    if len(vals) == 0:
        return "no value on any past decision"
    distinct = pc.unique(vals).to_pylist()
    if len(distinct) == 1:
        return f"the same value ({distinct[0]}) on every past decision"
    if all(not math.isnan(_number(v)) for v in distinct):
        return Encoding(name, "numeric")
    if len(distinct) > MAX_LEVELS:
        return f"{len(distinct):,} distinct values: an identifier or free text, not a category"
    pairs = pa.table({"level": vals, "account_id": pc.filter(accounts, present)})
    per_level = pairs.group_by("level").aggregate([("account_id", "count_distinct")])
    n_accounts = len(pc.unique(pairs["account_id"]))
    need = min_accounts(n_accounts)
    counts = dict(zip(per_level["level"].to_pylist(),
                      per_level["account_id_count_distinct"].to_pylist(), strict=True))
    kept = sorted(level for level, n in counts.items() if n >= need)
    covered = len(pc.unique(pc.filter(pairs["account_id"],
                                      pc.is_in(pairs["level"], pa.array(kept, pa.string())))))
    if covered * 2 < n_accounts:
        return (f"{len(distinct):,} distinct values, most held by fewer than {need} accounts: "
                "an identifier or free text, not a category")
    levels = (*kept, OTHER) if len(kept) < len(counts) else tuple(kept)
    if len(levels) < 2:
        return "a single value once rare values are pooled"
    return Encoding(name, "categorical", levels)


def choose_encodings(rows: pa.Table, names: Sequence[str]
                     ) -> tuple[dict[str, Encoding], list[dict[str, str]]]:
    """The encoding of every attribute of `names` on the training `rows` (see the module),
    and the attributes left out, each as {"feature": name, "reason": why}."""
    chosen: dict[str, Encoding] = {}
    left_out: list[dict[str, str]] = []
    accounts = rows["account_id"].combine_chunks()
    for name in names:
        values = rows[name].combine_chunks().cast(pa.string())
        decided = _decide(name, values, accounts)
        if isinstance(decided, Encoding):
            chosen[name] = decided
        else:
            left_out.append({"feature": name, "reason": decided})
    return chosen, left_out
