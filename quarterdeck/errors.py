"""One exception type per kind of problem a user can cause, each carrying the facts to fix it.

The CLI turns these into a readable message and a non-zero exit; the API into a JSON error
with the same fields (`as_dict`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class QuarterdeckError(Exception):
    """Base of every error Quarterdeck raises on purpose."""

    def as_dict(self) -> dict[str, Any]:
        return {"error": type(self).__name__, "message": str(self)}


@dataclass
class Problem:
    """One problem found in an input row: where it is and why it was refused.

    `row` is the 1-based record number in the file (the first data row after a CSV header is 1);
    `line` is where a spreadsheet or text editor shows it (a CSV's header is line 1), None for
    files without lines (Parquet).
    """

    file: str
    row: int | None
    field: str | None
    value: str | None
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", {where_in_file(self.row, self.line)}"
        if self.field:
            where += f", field {self.field!r}"
        shown = "" if self.value is None else f" (value {self.value!r})"
        return f"{where}: {self.reason}{shown}"


def where_in_file(row: int, line: int | None) -> str:
    """A record's place as its file's user counts it: `line 3 (row 2 of data)` in a CSV with
    a header, `line 2` in NDJSON, `row 2` in Parquet."""
    if line is None:
        return f"row {row}"
    if line == row:
        return f"line {line}"
    return f"line {line} (row {row} of data)"


@dataclass
class ContractViolation(QuarterdeckError):
    """A file does not meet the data contract; `problems` lists every bad row and field."""

    file: str
    problems: list[Problem] = field(default_factory=list)
    total: int | None = None  # all problems found, when only the first ones are kept

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        n = self.total if self.total is not None else len(self.problems)
        head = f"{self.file}: {n} problem{'s' if n != 1 else ''} with the data contract"
        shown = "\n".join(f"  {p}" for p in self.problems[:20])
        more = f"\n  … and {n - 20} more" if n > 20 else ""
        return f"{head}\n{shown}{more}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "error": "ContractViolation",
            "file": self.file,
            "total": self.total if self.total is not None else len(self.problems),
            "problems": [p.__dict__ for p in self.problems],
        }


@dataclass
class WorkspaceError(QuarterdeckError):
    """A workspace file is missing, unreadable or does not match its schema."""

    file: str
    line: int | None
    field: str | None
    reason: str

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        what = f" field {self.field!r}:" if self.field else ""
        return f"{where}:{what} {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {"error": "WorkspaceError", **self.__dict__}


@dataclass
class MissingRateError(QuarterdeckError):
    """No exchange rate is in effect for a currency on a date that needs one."""

    currency: str
    date: str
    base_currency: str

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        return (
            f"no exchange rate from {self.currency} to {self.base_currency} in effect on "
            f"{self.date}: add a fx_rates row with currency {self.currency} dated on or before it"
        )


class UnknownEntityError(QuarterdeckError):
    """A file's name does not say which entity of the data contract it holds."""


class UnknownTableError(QuarterdeckError):
    """An export or query named a table that does not exist."""


class NotSupportedError(QuarterdeckError):
    """A backend cannot do something; the message says what and what to use instead."""
