"""The same seed writes the same bytes; another seed writes another company."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from quarterdeck.demo import generate_demo

SMALL = {"accounts": 30, "years": 1, "today": date(2026, 9, 30)}


def files(root: Path) -> dict[str, bytes]:
    paths = sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): p.read_bytes() for p in paths}


def test_same_seed_writes_identical_files(tmp_path):
    generate_demo(tmp_path / "a", seed=3, **SMALL)
    generate_demo(tmp_path / "b", seed=3, **SMALL)
    a, b = files(tmp_path / "a"), files(tmp_path / "b")
    assert a.keys() == b.keys()
    assert [name for name in a if a[name] != b[name]] == []


def test_another_seed_writes_another_company(tmp_path):
    generate_demo(tmp_path / "a", seed=3, **SMALL)
    generate_demo(tmp_path / "b", seed=4, **SMALL)
    a, b = files(tmp_path / "a"), files(tmp_path / "b")
    assert a["data/events.parquet"] != b["data/events.parquet"]
    assert a["data/accounts.parquet"] != b["data/accounts.parquet"]


def test_manifest_and_summary_count_every_file(tmp_path):
    stages: list[tuple[str, float]] = []
    summary = generate_demo(tmp_path, seed=5, progress=lambda s, f: stages.append((s, f)),
                            **SMALL)
    manifest = json.loads((tmp_path / "demo.json").read_text())
    assert manifest["seed"] == 5 and manifest["today"] == "2026-09-30"
    assert manifest["rows"] == summary.rows
    on_disk = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.parquet")}
    assert on_disk == set(summary.rows)
    assert stages and all(0.0 <= f <= 1.0 for _, f in stages) and stages[-1][1] == 1.0
