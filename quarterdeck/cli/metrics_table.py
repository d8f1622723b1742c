"""How `quarterdeck metrics` shows the headline: a Rich table, the company total last."""

from __future__ import annotations

from datetime import date
from typing import Any

from rich.console import Console
from rich.table import Table


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f}%"


def print_headline(console: Console, rows: list[dict[str, Any]], *, by: str, as_of: date,
                   window: int, currency: str) -> None:
    table = Table(title=f"Revenue retention as of {as_of} (rates over the trailing {window} "
                  f"months)", caption="NRR, GRR and churn follow docs/metrics-retention.md; "
                  "percentages are rounded to one decimal.")
    table.add_column(by, overflow="fold")
    for col in ("customers", f"ARR {currency}", "NRR", "GRR", "logo churn", "rev. churn"):
        table.add_column(col, justify="right", no_wrap=True)
    for row in rows:
        style = "bold" if row[by] == "all" else None
        table.add_row(str(row[by]), f"{int(row['customers'] or 0):,}",
                      f"{float(row['arr'] or 0):,.2f}", _pct(row["nrr"]), _pct(row["grr"]),
                      _pct(row["logo_churn"]), _pct(row["revenue_churn"]), style=style)
    console.print(table)
