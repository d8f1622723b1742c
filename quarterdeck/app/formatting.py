"""How numbers and dates read on the pages: money with its currency, short amounts, dates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

# Symbols for the currencies most workspaces report in; others are shown by ISO code.
SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "CAD": "CA$",
    "AUD": "A$",
    "NZD": "NZ$",
    "INR": "₹",
    "CNY": "CN¥",
    "BRL": "R$",
    "MXN": "MX$",
    "KRW": "₩",
}


def money(value: Decimal | float | int | None, currency: str | None, cents: bool = False) -> str:
    """An amount with its currency: `money(1234567, "USD")` is `"$1,234,567"`."""
    if value is None:
        return "—"
    exact = abs(Decimal(str(value)) if isinstance(value, float) else Decimal(value))
    # Half up, as on an invoice (Decimal's own default would round half to even).
    rounded = exact.quantize(Decimal("0.01") if cents else Decimal(1), rounding=ROUND_HALF_UP)
    amount = f"{rounded:,.2f}" if cents else f"{rounded:,.0f}"
    sign = "-" if value < 0 and rounded else ""
    symbol = SYMBOLS.get(currency or "")
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency or ''}".strip()


def compact_money(value: Decimal | float | int, currency: str | None) -> str:
    """A short amount for headers and chart axes: `compact_money(1_250_000, "USD")` is `$1.25M`."""
    number = float(value)
    short, suffix = f"{number:,.0f}", ""
    for limit, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(number) >= limit:
            short, suffix = f"{number / limit:.2f}".rstrip("0").rstrip("."), unit
            break
    symbol = SYMBOLS.get(currency or "")
    return f"{symbol}{short}{suffix}" if symbol else f"{short}{suffix} {currency or ''}".strip()


def day(value: date | datetime | None) -> str:
    """A date as `Jun 30, 2024`; empty values as a dash."""
    return value.strftime("%b %-d, %Y") if value else "—"


def number(value: int | None) -> str:
    """A count with thousands separators."""
    return "—" if value is None else f"{value:,}"


def days_until(value: date | None, as_of: date | None) -> int | None:
    """Days from `as_of` to `value` (negative when past), or None if either is missing."""
    if value is None or as_of is None:
        return None
    return (value - as_of).days
