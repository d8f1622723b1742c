"""The weekly reports kept in the app database, read in the app: the latest by default, any
past one by id, each downloadable as HTML, Markdown or PDF, the reader's own actions first.

The report's content comes from its own renderer (`quarterdeck.reports.render_html`), laid out
in the app's page and styles: the app's content security policy lets no inline style sheet
run, so the report's page (with its own styles) is only ever downloaded, never shown inline.
Every figure's name links to its definition below the report (as in docs/reports.md).
"""

from __future__ import annotations

import re
from typing import Literal

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup
from starlette.responses import Response

from quarterdeck.app.api.reports import FORMATS, stored_items, stored_report
from quarterdeck.app.auth import current_user
from quarterdeck.app.params import RowId
from quarterdeck.app.rendering import render
from quarterdeck.reports.render_html import render_html_body
from quarterdeck.reports.store import render_report

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_user)])
#: The newest reports listed by name; older ones fold away.
RECENT = 8
_BRIDGE = "quarterdeck export mrr_bridge --as-of {day} --grain week (and fiscal_quarter)"
#: Each figure of the report: key (anchor #def-<key>), label, definition, the same figure
#: from the command line ({day} filled in), and the section of docs/reports.md.
DEFINITIONS: list[tuple[str, str, str, str]] = [
    ("arr_bridge", "ARR bridge", "The calendar week (Monday–Sunday) holding the date and the "
     "fiscal quarter holding it, each to the date: starting ARR + new + expansion + "
     "reactivation + contraction + churn + FX adjustment = ending ARR, each movement its MRR "
     "movement × 12.", _BRIDGE),
    ("new", "New", "ARR of accounts paying for the first time ever.", ""),
    ("expansion", "Expansion", "ARR added by accounts that were already paying.", ""),
    ("reactivation", "Reactivation", "ARR of accounts paying again after having churned.", ""),
    ("contraction", "Contraction", "ARR lost by accounts that still pay.", ""),
    ("churn", "Churn", "ARR of accounts that stopped paying, recognised at the end of their "
     "paid period.", ""),
    ("fx_adjustment", "FX", "Change of ARR from exchange rates alone; rates never create a "
     "movement.", ""),
    ("retention", "Retention", "Over the 12 months ending on the date, against the targets "
     "in definitions/reports.yml.",
     "quarterdeck export retention --as-of {day} --grain day --start {day}"),
    ("nrr", "NRR", "Of the accounts paying 12 months before the date, their MRR on the date ÷ "
     "their MRR then (expansion included).", ""),
    ("grr", "GRR", "The same cohort's MRR on the date, each account capped at what it paid "
     "12 months before, ÷ their MRR then.", ""),
    ("logo_churn", "Logo churn", "Share of that cohort paying nothing on the date.", ""),
    ("revenue_churn", "Revenue churn", "The starting MRR of those who left ÷ the cohort's "
     "starting MRR.", ""),
    ("health_movement", "Health movement", "Accounts whose health band on the date differs "
     "from their band seven days earlier, with the components whose points moved, largest "
     "move first.", "quarterdeck export health_scores --as-of {day} (and seven days before)"),
    ("renewals", "Renewals", "Decisions that became known in the week, and the renewals due "
     "in the next 90 days with the published forecast.", ""),
    ("renewals_decided", "Decided this week", "Renewal decisions decided 7 to 13 days before "
     "the date (a decision is known once its 7-day grace period is over): renewed, "
     "contracted or churned.", "quarterdeck export renewal_outcomes --as-of {day}"),
    ("renewals_due", "Due in the next 90 days", "Paying accounts whose renewal date is "
     "within 90 days, with health band, churn probability within the window and the "
     "forecast's expected ARR.", "quarterdeck export account_snapshots --as-of {day}"),
    ("forecast", "Forecast", "Expected renewed ARR of the renewals due (each account's next "
     "decision: ARR at stake × P(reached) × P(renew)) with the exact 90% interval of their "
     "sum, from the forecast `quarterdeck run` published for the date.",
     "quarterdeck export renewal_forecast --as-of {day}"),
    ("alerts", "New alerts", "Alerts fired in the seven days ending on the date, by signal, "
     "and how many are still open.", "quarterdeck export alerts --as-of {day}"),
    ("operations", "CS operations", "Per CSM and in total: accounts, ARR, capacity used, "
     "overdue tasks, playbook execution, onboarding on time, QBR coverage.",
     "quarterdeck ops --as-of {day} --by csm"),
    ("data_quality", "Data quality", "Every check of the date that is not ok, with the "
     "report sections its entity feeds.", "quarterdeck quality --as-of {day}"),
    ("next_best_actions", "Next best actions", "One action per account that needs one (a "
     "live alert, an overdue task, a worsened or red band, a renewal in 90 days while not "
     "green), titled after the strongest reason, grouped by owner; yours first.", ""),
    ("priority", "Priority", "ARR at stake × risk: the account's published ARR × its "
     "probability of churning within the churn window (the band's risk when no churn model "
     "was published).", ""),
]
DOC_SECTIONS = {"forecast": "the-renewal-forecast", "next_best_actions": "next-best-actions",
                "priority": "next-best-actions"}
# The charts' own style sheet only sets line joins; the app's policy would refuse it anyway.
_SVG_STYLE = re.compile(r"<style[^>]*>.*?</style>", re.S)


def _page(request: Request, report_id: int | None) -> Response:
    engine = request.app.state.engine
    items = stored_items(engine)
    if report_id is None and items:
        report_id = items[0].id
    report = stored_report(engine, report_id) if report_id is not None else None
    body = None
    if report is not None:
        body = Markup(_SVG_STYLE.sub("", render_html_body(
            report, reader=request.state.user.email, definitions="#def-")))
    day = report.as_of if report else None
    return render(request, "reports.html", {
        "items": items, "recent": items[:RECENT], "older": items[RECENT:],
        "report_id": report_id, "report": report, "body": body, "formats": FORMATS,
        "definitions": [(k, label, text, cmd.format(day=day) if day else "",
                         DOC_SECTIONS.get(k, "the-weekly-operating-report"))
                        for k, label, text, cmd in DEFINITIONS]})


@router.get("/reports")
def reports_page(request: Request) -> Response:
    """The latest weekly report, and the list of every one kept."""
    return _page(request, None)


@router.get("/reports/{report_id}.{fmt}")
def report_download(request: Request, report_id: RowId,
                    fmt: Literal["html", "md", "pdf"]) -> Response:
    """A stored report as a file: the self-contained HTML page, the chat-sized Markdown or
    the PDF, with the signed-in reader's own actions first."""
    report = stored_report(request.app.state.engine, report_id)
    content = render_report(report, fmt, reader=request.state.user.email)
    name = f"weekly-report-{report.as_of}.{fmt}"
    return Response(content, media_type=FORMATS[fmt],
                    headers={"content-disposition": f'attachment; filename="{name}"'})


@router.get("/reports/{report_id}")
def report_page(request: Request, report_id: RowId) -> Response:
    """One stored weekly report, as it was built."""
    return _page(request, report_id)
