"""The QBR deck (python-pptx): title; goals and success plan; value delivered; support
summary; health and risks; renewal and next-quarter plan. Charts are PNG images.

A company template (a .pptx) gives the look: its layouts are used, and it must have a title
layout (a title and a subtitle placeholder) and a content layout (a title and a body
placeholder); a template without them is refused, naming what is missing.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from pptx import Presentation
from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.util import Inches, Pt

from quarterdeck.reports import charts
from quarterdeck.reports.errors import TemplateError
from quarterdeck.reports.formatting import chance, money
from quarterdeck.reports.qbr import Qbr

TITLE_TYPES = {PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE}
BODY_TYPES = {PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT}
SLIDE_TITLES = ("Goals and success plan", "Value delivered", "Support summary",
                "Health and risks", "Renewal and next-quarter plan")


def _types(layout) -> set:
    return {ph.placeholder_format.type for ph in layout.placeholders}


def _layouts(prs, source: str):
    title = content = None
    for layout in prs.slide_layouts:
        kinds = _types(layout)
        if title is None and kinds & TITLE_TYPES and PP_PLACEHOLDER.SUBTITLE in kinds:
            title = layout
        if content is None and kinds & TITLE_TYPES and kinds & BODY_TYPES:
            content = layout
    missing = [n for n, found in (("a title layout (title and subtitle placeholders)", title),
                                  ("a content layout (title and body placeholders)", content))
               if found is None]
    if missing:
        names = ", ".join(layout.name for layout in prs.slide_layouts) or "none"
        raise TemplateError(f"{source}: the template lacks {' and '.join(missing)}; "
                            f"its layouts are: {names}")
    return title, content


def _body(slide):
    return next(ph for ph in slide.placeholders if ph.placeholder_format.type in BODY_TYPES)


def _bullets(slide, lines: list[str], size: int = 16) -> None:
    frame = _body(slide).text_frame
    frame.clear()
    for i, line in enumerate(lines or ["–"]):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.text = line
        paragraph.font.size = Pt(size)


def _content(prs, layout, title: str, lines: list[str], chart: bytes | None = None):
    slide = prs.slides.add_slide(layout)
    slide.shapes.title.text = title
    _bullets(slide, lines, size=14 if chart else 16)
    if chart is not None:
        body = _body(slide)
        # text in the upper part of the body, the chart below it
        body.height = int(prs.slide_height * 0.25)
        top = body.top + body.height
        room_w = prs.slide_width - 2 * Inches(0.5)
        room_h = prs.slide_height - top - Inches(0.3)
        picture = slide.shapes.add_picture(io.BytesIO(chart), Inches(0.5), top, height=room_h)
        if picture.width > room_w:  # fit the chart inside the slide, keeping its shape
            picture.height = int(picture.height * room_w / picture.width)
            picture.width = room_w
        picture.left = int((prs.slide_width - picture.width) / 2)
    return slide


def render_qbr_deck(qbr: Qbr, out: Path, *, template: Path | None = None) -> Path:
    """Write the deck to `out` atomically (a temporary file renamed into place): a refused
    template or any failure leaves no file behind."""
    if template is not None and not template.is_file():
        raise TemplateError(f"{template}: no such template file")
    prs = Presentation(str(template)) if template else Presentation()
    if template is None:
        prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    title_layout, content_layout = _layouts(prs, str(template or "the default template"))
    c = qbr.currency
    slide = prs.slides.add_slide(title_layout)
    slide.shapes.title.text = f"{qbr.name} — quarterly business review"
    subtitle = next(ph for ph in slide.placeholders
                    if ph.placeholder_format.type == PP_PLACEHOLDER.SUBTITLE)
    subtitle.text = (f"As of {qbr.as_of} · {qbr.segment or 'no segment'} · ARR "
                     f"{money(qbr.arr, c)} · CSM {qbr.owner_name or qbr.owner_email or '–'}")
    _content(prs, content_layout, SLIDE_TITLES[0], [
        f"Lifecycle stage: {qbr.stage or '–'}",
        f"Customer since {qbr.customer_since or '–'}; onboarding "
        + ("complete" if qbr.onboarding_complete else "not complete")
        + (f", first value after {qbr.time_to_value_days} days"
           if qbr.time_to_value_days is not None else ""),
        f"Success plan: {len({t.playbook for t in qbr.open_tasks})} active playbooks, "
        f"{len(qbr.open_tasks)} open tasks",
        *[f"Milestone {on}: {what}" for on, what in qbr.milestones[-4:]],
    ])
    usage = charts.png(charts.trend(qbr.usage_by_month, "Product events by month"))
    _content(prs, content_layout, SLIDE_TITLES[1], [
        f"Events in the last month: {qbr.usage_by_month[-1][1] if qbr.usage_by_month else 0:,}",
        f"Active users in 30 days: {qbr.active_users_30d:,}",
        f"Milestones reached: {len(qbr.milestones)}",
    ], chart=usage)
    s = qbr.support
    _content(prs, content_layout, SLIDE_TITLES[2], [
        f"Tickets in the last 90 days: {s.tickets_90d}",
        f"Open tickets: {s.open_tickets}",
        "Median time to solve: " + (f"{s.median_hours_to_solve:.1f} hours"
                                    if s.median_hours_to_solve is not None else "–"),
        "CSAT (90 days): " + (f"{s.csat_average:.2f}" if s.csat_average is not None else "–"),
        "Latest NPS: " + (f"{s.latest_nps:.0f}" if s.latest_nps is not None else "–"),
    ])
    _content(prs, content_layout, SLIDE_TITLES[3], [
        "Health: " + (f"{qbr.health_score:.1f} ({qbr.health_band})"
                      if qbr.health_score is not None else "not scored"),
        *[f"Why: {r}" for r in qbr.health_reasons],
        "Churn risk: " + (f"{chance(qbr.churn_probability_window)} within "
                          f"{qbr.churn_window_days} days"
                          if qbr.churn_probability_window is not None else "not published"),
        *[f"Risk: {r}" for r in qbr.churn_reasons[:3]],
        *[f"Alert: {a}" for a in qbr.live_alerts],
    ])
    arr = charts.png(charts.trend(qbr.arr_by_month, f"ARR by month ({c})"))
    _content(prs, content_layout, SLIDE_TITLES[4], [
        f"Renewal: {qbr.renewal_date or 'no renewal date'} · ARR {money(qbr.arr, c)}",
        *[f"Task: {t.title} — {t.owner_email or 'unassigned'}, due {t.due_on} ({t.status})"
          for t in qbr.open_tasks[:6]],
    ] if qbr.open_tasks or qbr.renewal_date else ["No open tasks"], chart=arr)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            prs.save(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
