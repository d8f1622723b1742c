"""The data-quality report: one row per source, entity, check, rule and field.

A row counts the rows the check judged that passed and failed it; `share` is the failing
share. Its status is `ok`, or its severity (`warning`, `error`) when the failing share is
above its threshold — or, for freshness, when the newest row is older than expected.

Example: QualityReport(as_of, rows).headline → "61 checks as of 2026-09-30: 1 error,
4 warnings, 56 ok".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime

import pyarrow as pa

STATUSES = ("error", "warning", "ok")  # worst first
CHECKS = ("freshness", "completeness", "accuracy", "orphans", "duplicates")


@dataclass(frozen=True)
class CheckResult:
    """One line of the report."""

    source: str
    entity: str
    check: str  # one of CHECKS
    rule: str  # required, recommended, a rule's name, expected_every, unknown_account …
    field: str
    passed: int | None
    failed: int | None
    severity: str
    threshold: float | None
    status: str  # one of STATUSES
    detail: str
    examples: tuple[str, ...] = ()
    newest_at: datetime | None = None  # freshness: the newest row's timestamp (UTC)

    @property
    def share(self) -> float | None:
        """The failing share of the rows judged; None when none were."""
        if self.passed is None or self.failed is None or self.passed + self.failed == 0:
            return None
        return self.failed / (self.passed + self.failed)

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "share": self.share, "examples": list(self.examples)}


def status_of(failed: int, judged: int, severity: str, threshold: float) -> str:
    """`severity` when more than `threshold` of the `judged` rows failed, else ok."""
    return severity if judged and failed / judged > threshold else "ok"


def _order(row: CheckResult) -> tuple:
    return (row.source, STATUSES.index(row.status), row.entity, CHECKS.index(row.check),
            row.rule, row.field)


@dataclass
class QualityReport:
    """Every check's result as of a date, sorted by source, then worst first."""

    as_of: date
    rows: list[CheckResult] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rows = sorted(self.rows, key=_order)

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def worst(self) -> str:
        """The worst status of any row (ok for an empty report)."""
        return next((s for s in STATUSES if self.count(s)), "ok")

    @property
    def sources(self) -> list[str]:
        return sorted({r.source for r in self.rows})

    @property
    def headline(self) -> str:
        parts = [f"{self.count(s):,} {s}" + ("s" if s != "ok" and self.count(s) != 1 else "")
                 for s in STATUSES]
        return f"{len(self.rows):,} checks as of {self.as_of}: {', '.join(parts)}"

    def failing(self, at_least: str = "warning") -> list[CheckResult]:
        """The rows whose status is `at_least` or worse."""
        worst = STATUSES[: STATUSES.index(at_least) + 1]
        return [r for r in self.rows if r.status in worst]

    @property
    def stale(self) -> list[CheckResult]:
        """Freshness rows that failed: the sources that stopped delivering an entity."""
        return [r for r in self.rows if r.check == "freshness" and r.status != "ok"]

    def to_arrow(self) -> pa.Table:
        """The report as a table (share included, examples as a list of ids)."""
        return pa.Table.from_pylist([r.as_dict() for r in self.rows], schema=SCHEMA)


SCHEMA = pa.schema([
    ("source", pa.string()), ("entity", pa.string()), ("check", pa.string()),
    ("rule", pa.string()), ("field", pa.string()), ("passed", pa.int64()),
    ("failed", pa.int64()), ("severity", pa.string()), ("threshold", pa.float64()),
    ("status", pa.string()), ("detail", pa.string()), ("examples", pa.list_(pa.string())),
    ("newest_at", pa.timestamp("us")), ("share", pa.float64()),
])
