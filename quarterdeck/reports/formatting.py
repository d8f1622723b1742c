"""Numbers as a reader sees them in every format of a report."""

from __future__ import annotations

from decimal import Decimal


def money(value: Decimal | float | None, currency: str = "") -> str:
    """12,345 USD (whole units; the exports keep the cents)."""
    if value is None:
        return "–"
    text = f"{Decimal(str(value)):,.0f}"
    return f"{text} {currency}".strip()


def signed(value: Decimal | float) -> str:
    """+1,200 or −300."""
    v = Decimal(str(value))
    return f"+{v:,.0f}" if v > 0 else (f"−{-v:,.0f}" if v < 0 else "0")


def percent(value: float | None, digits: int = 1) -> str:
    """0.9175 → 91.8%."""
    return "–" if value is None else f"{value * 100:.{digits}f}%"


def points(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"
