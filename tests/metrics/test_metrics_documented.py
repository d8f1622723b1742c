"""Every metric of the registry has a documented definition."""

from __future__ import annotations

from pathlib import Path

from quarterdeck.metrics.registry import METRICS

DOCS = Path(__file__).parents[2] / "docs"


def test_every_metric_has_a_definition_section():
    text = "\n".join(p.read_text() for p in DOCS.glob("metrics-*.md"))
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    for name in METRICS:
        assert any(f"(`{name}`)" in h for h in headings), (
            f"metric {name} has no '## … (`{name}`)' section in docs/metrics-*.md")
