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


def chance(value: float | None) -> str:
    """A probability as a whole percentage that never reads as certain when it is not:
    0.62 → 62%, 0.004 → <1%, 0.998 → >99%; exactly 0 or 1 (a known outcome) → 0% or 100%."""
    if value is None:
        return "–"
    shown = f"{value * 100:.0f}"
    if shown == "0" and value > 0:
        return "<1%"
    if shown == "100" and value < 1:
        return ">99%"
    return f"{shown}%"


def points(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"
