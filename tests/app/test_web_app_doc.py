"""docs/web-app.md names every route of the app: a route added without its line fails here."""

from __future__ import annotations

import re
from pathlib import Path

from quarterdeck.app.permissions import ROUTES

DOC = Path(__file__).resolve().parents[2] / "docs" / "web-app.md"


def test_every_route_is_documented_with_its_method():
    text = DOC.read_text()
    missing = []
    for method, path in ROUTES:
        shown = re.sub(r"\{(\w+):path\}", r"{\1}", path)  # the doc writes {id}, not {id:path}
        if f"`{method} {shown}`" not in text and f"`{method} {shown}?" not in text:
            missing.append(f"{method} {shown}")
    assert missing == [], f"add these routes to docs/web-app.md: {missing}"
