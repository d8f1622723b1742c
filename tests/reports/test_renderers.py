"""Renderers of a hand-made report: each reader's own actions first, chat-sized Markdown,
self-contained HTML, and QBR decks that refuse a template without the layouts they need."""

from __future__ import annotations

from pathlib import Path

import pytest
from pptx import Presentation

from quarterdeck.reports.errors import TemplateError
from quarterdeck.reports.render_html import render_html
from quarterdeck.reports.render_markdown import render_markdown
from quarterdeck.reports.render_pptx import SLIDE_TITLES, render_qbr_deck
from quarterdeck.reports.weekly_report import RenewalDue


def test_a_readers_own_actions_come_first_then_owners_by_priority(small_report) -> None:
    owners = [o for o, _ in small_report.actions_by_owner()]
    assert owners == ["ben@example.com", "ana@example.com"]
    mine = small_report.actions_by_owner(first="ana@example.com")
    assert mine[0][0] == "ana@example.com"
    assert [a.account_id for a in mine[0][1]] == ["a1", "a2"]


def test_markdown_is_short_and_puts_the_readers_actions_first(small_report) -> None:
    text = render_markdown(small_report, reader="ana@example.com")
    assert len(text) < 4000 and len(text.splitlines()) < 20
    actions = text.split("*Next best actions*:")[1].strip().splitlines()
    assert "Account a1" in actions[0] and "Account a2" in actions[1]
    assert "forecast not available" in text
    assert "NRR 102.0% (target 105.0%)" in text


def test_html_is_self_contained_with_inline_charts(small_report) -> None:
    html = render_html(small_report)
    assert html.count("<svg") == 2
    assert "<script" not in html and "src=\"http" not in html and "<link" not in html
    assert "below target" in html  # NRR 102% against 105%
    assert 'href="http://qd.example/accounts/b1"' in html
    assert "Renewal forecast not available" in html


def test_a_long_list_shows_its_largest_accounts_in_order_and_counts_the_rest(
        small_report) -> None:
    from datetime import date, timedelta
    from decimal import Decimal

    due = [RenewalDue(account_id=f"r{i:03d}", name=f"Renewal {i:03d}", owner_email=None,
                      renewal_date=date(2026, 10, 1) + timedelta(days=i % 90),
                      days_to_renewal=1 + i % 90, arr=Decimal(1000 + (i * 37) % 120 * 100),
                      band=None, churn_probability_window=None) for i in range(120)]
    html = render_html(small_report.model_copy(update={"renewals_due": due}))
    shown = [r for r in due if f">{r.name}<" in html]
    assert len(shown) == 50
    assert min(r.arr for r in shown) >= max(r.arr for r in due if r not in shown)
    assert [html.index(f">{r.name}<") for r in shown] == sorted(
        html.index(f">{r.name}<") for r in shown)  # in the report's own order
    assert "The 50 largest by ARR of 120 renewals due" in html
    few = render_html(small_report.model_copy(update={"renewals_due": due[:3]}))
    assert "largest by ARR" not in few and all(f">{r.name}<" in few for r in due[:3])


def test_the_deck_has_the_six_slides_in_order(small_qbr, tmp_path) -> None:
    out = render_qbr_deck(small_qbr, tmp_path / "acme.pptx")
    slides = Presentation(str(out)).slides
    titles = [s.shapes.title.text for s in slides]
    assert titles[0].startswith("Acme") and titles[1:] == list(SLIDE_TITLES)
    text = "\n".join(sh.text_frame.text for sh in slides[3].shapes if sh.has_text_frame)
    assert "Tickets in the last 90 days: 4" in text and "Latest NPS: 8" in text
    pictures = [sh for s in slides for sh in s.shapes if sh.shape_type == 13]
    assert len(pictures) == 2


def test_a_template_without_the_needed_layouts_is_refused_and_nothing_written(
        small_qbr, tmp_path) -> None:
    template = Presentation()
    layouts = template.slide_layouts
    for layout in list(layouts):
        if layout.name != "Blank":
            layouts.remove(layout)
    path = tmp_path / "company.pptx"
    template.save(str(path))
    with pytest.raises(TemplateError, match="lacks a title layout .* and a content layout"):
        render_qbr_deck(small_qbr, tmp_path / "deck.pptx", template=path)
    assert list(tmp_path.iterdir()) == [path]


def test_a_company_template_gives_its_layouts(small_qbr, tmp_path) -> None:
    template = Presentation()
    template.slide_layouts[0].name = "Company title"
    path = tmp_path / "company.pptx"
    template.save(str(path))
    out = render_qbr_deck(small_qbr, tmp_path / "deck.pptx", template=path)
    assert Presentation(str(out)).slides[0].slide_layout.name == "Company title"


def test_a_missing_template_file_is_named(small_qbr, tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="no such template file"):
        render_qbr_deck(small_qbr, tmp_path / "deck.pptx", template=tmp_path / "nope.pptx")


def test_charts_fit_inside_their_slides(small_qbr, tmp_path) -> None:
    prs = Presentation(str(render_qbr_deck(small_qbr, tmp_path / "acme.pptx")))
    for slide in prs.slides:
        for shape in slide.shapes:
            assert shape.left >= 0 and shape.left + shape.width <= prs.slide_width
            assert shape.top >= 0 and shape.top + shape.height <= prs.slide_height
