"""The weekly report as one self-contained HTML page: styles inline, charts as inline SVG,
no script and nothing fetched, so it reads the same in a mail client, a browser and a PDF."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from quarterdeck.reports import charts
from quarterdeck.reports.formatting import chance, money, percent, points, signed
from quarterdeck.reports.weekly_report import WeeklyReport

T = TypeVar("T")

_env = Environment(loader=PackageLoader("quarterdeck.reports", "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True,
                   lstrip_blocks=True)
_env.filters.update(money=money, percent=percent, signed=signed, points=points,
                    chance=chance)
#: Rows of a list of accounts the report shows (the largest by ARR); the rest are counted and
#: left to the renewals and accounts pages: a 20,000-account company has 4,000 renewals due.
LISTED = 50


def largest(rows: Sequence[T], n: int = LISTED) -> list[T]:
    """The `n` rows with the largest ARR (`arr`), in their own order. Example: a report's
    4,221 renewals due → the 50 largest, soonest first as the report lists them."""
    keep = set(sorted(range(len(rows)), key=lambda i: (-rows[i].arr, i))[:n])
    return [r for i, r in enumerate(rows) if i in keep]


def render_html(report: WeeklyReport, *, reader: str | None = None) -> str:
    """The report as HTML; `reader`'s own next best actions are listed first."""
    return _render("weekly.html", report, reader=reader, definitions=None)


def render_html_body(report: WeeklyReport, *, reader: str | None = None,
                     definitions: str | None = None) -> str:
    """The report's content without its page and styles, for a page that lays it out itself
    (the web app); with `definitions`, each figure's name links to `definitions` + its key:
    `render_html_body(report, definitions="#def-")` links NRR to `#def-nrr`."""
    return _render("weekly_body.html", report, reader=reader, definitions=definitions)


def _render(template: str, report: WeeklyReport, *, reader: str | None,
            definitions: str | None) -> str:
    return _env.get_template(template).render(
        r=report, reader=reader, actions=report.actions_by_owner(first=reader),
        definitions=definitions, renewals_due=largest(report.renewals_due),
        health_moves=largest(report.health_moves),
        week_chart=Markup(charts.svg(charts.waterfall(report.week, report.currency))),
        quarter_chart=Markup(charts.svg(charts.waterfall(report.quarter, report.currency))))
