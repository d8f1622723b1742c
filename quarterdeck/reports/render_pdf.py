"""The weekly report as PDF: the HTML page laid out on A4 by WeasyPrint."""

from __future__ import annotations

from quarterdeck.reports.render_html import render_html
from quarterdeck.reports.weekly_report import WeeklyReport


def render_pdf(report: WeeklyReport, *, reader: str | None = None) -> bytes:
    """The report as PDF bytes (A4, tables wrapped to the page width)."""
    from weasyprint import HTML

    return HTML(string=render_html(report, reader=reader)).write_pdf()
