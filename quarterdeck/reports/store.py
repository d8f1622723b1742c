"""Reports kept in the app database: the weekly report of each date as data, listed and
rendered again by id (the web app shows the latest and past ones through this API).

Example: save_report(engine, report) → id; render_stored(engine, id, "md") → str
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, select

from quarterdeck.appdb.database import session
from quarterdeck.appdb.models import utcnow
from quarterdeck.appdb.report_models import StoredReport
from quarterdeck.errors import UnknownTableError
from quarterdeck.reports.weekly_report import WeeklyReport

WEEKLY = "weekly"


@dataclass(frozen=True)
class ReportListing:
    """A stored report, without its content."""

    id: int
    kind: str
    as_of: date
    created_at: datetime


def save_report(engine: Engine, report: WeeklyReport) -> int:
    """Keep `report` (replacing the weekly report already kept for its date); its id."""
    content = report.model_dump(mode="json")
    with session(engine) as s:
        found = s.scalars(select(StoredReport).where(
            (StoredReport.kind == WEEKLY) & (StoredReport.as_of == report.as_of))).first()
        if found is None:
            found = StoredReport(kind=WEEKLY, as_of=report.as_of, content=content)
            s.add(found)
        else:
            found.content, found.created_at = content, utcnow()
        s.flush()
        return found.id


def list_reports(engine: Engine, kind: str = WEEKLY) -> list[ReportListing]:
    """Stored reports of `kind`, the latest date first."""
    t = StoredReport.__table__
    query = (select(t.c.id, t.c.kind, t.c.as_of, t.c.created_at).where(t.c.kind == kind)
             .order_by(t.c.as_of.desc()))
    with session(engine) as s:
        return [ReportListing(*row) for row in s.execute(query)]


def load_report(engine: Engine, report_id: int) -> WeeklyReport:
    """The stored report `report_id`, as it was built."""
    with session(engine) as s:
        found = s.get(StoredReport, report_id)
        if found is None:
            raise UnknownTableError(f"no stored report with id {report_id}")
        return WeeklyReport.model_validate(found.content)


def render_report(report: WeeklyReport, fmt: str, *, reader: str | None = None) -> str | bytes:
    """`report` in format html, pdf (bytes) or md, `reader`'s own actions first."""
    from quarterdeck.reports.render_html import render_html
    from quarterdeck.reports.render_markdown import render_markdown
    from quarterdeck.reports.render_pdf import render_pdf

    renderers = {"html": render_html, "pdf": render_pdf, "md": render_markdown}
    if fmt not in renderers:
        raise UnknownTableError(f"no report format {fmt!r}; use html, pdf or md")
    return renderers[fmt](report, reader=reader)


def render_stored(engine: Engine, report_id: int, fmt: str = "html", *,
                  reader: str | None = None) -> str | bytes:
    """Stored report `report_id` rendered as `fmt` (see `render_report`)."""
    return render_report(load_report(engine, report_id), fmt, reader=reader)


@dataclass(frozen=True)
class DeckListing:
    """A kept QBR deck, without its content."""

    id: int
    account_id: str
    as_of: date
    created_at: datetime
    created_by: str | None
    size: int


def keep_deck(engine: Engine, account_id: str, as_of: date, content: bytes, *,
              created_by: str | None = None) -> int:
    """Keep a QBR deck (replacing the one kept for the same account and day); its id."""
    from quarterdeck.appdb.report_models import QbrDeck

    with session(engine) as s:
        found = s.scalars(select(QbrDeck).where(
            (QbrDeck.account_id == account_id) & (QbrDeck.as_of == as_of))).first()
        if found is None:
            found = QbrDeck(account_id=account_id, as_of=as_of, content=content,
                            size=len(content), created_by=created_by)
            s.add(found)
        else:
            found.content, found.size, found.created_at, found.created_by = (
                content, len(content), utcnow(), created_by)
        s.flush()
        return found.id


def list_decks(engine: Engine, account_id: str) -> list[DeckListing]:
    """The QBR decks kept for an account, the latest day first."""
    from quarterdeck.appdb.report_models import QbrDeck

    t = QbrDeck.__table__
    query = (select(t.c.id, t.c.account_id, t.c.as_of, t.c.created_at, t.c.created_by, t.c.size)
             .where(t.c.account_id == account_id).order_by(t.c.as_of.desc()))
    with session(engine) as s:
        return [DeckListing(*row) for row in s.execute(query)]


def load_deck(engine: Engine, deck_id: int) -> tuple[DeckListing, bytes]:
    """A kept QBR deck and its content."""
    from quarterdeck.appdb.report_models import QbrDeck

    with session(engine) as s:
        found = s.get(QbrDeck, deck_id)
        if found is None:
            raise UnknownTableError(f"no QBR deck with id {deck_id}")
        return (DeckListing(found.id, found.account_id, found.as_of, found.created_at,
                            found.created_by, found.size), bytes(found.content))
